import Foundation
import HeraldCore
import Testing

/// Every number below was checked against libphonenumber 8.12.57 (Debian's libphonenumber-dev).
@Suite("Phone numbers")
struct PhoneNumberTests {
    @Test(
        "Mobile numbers in every spelling become E.164",
        arguments: [
            // Morocco
            ("0661234567", "MA", "+212661234567"),
            ("+212 661-23-45-67", "MA", "+212661234567"),
            ("00212661234567", "LB", "+212661234567"),
            ("٠٦٦١٢٣٤٥٦٧", "MA", "+212661234567"),
            ("(+212) 661234567", "MA", "+212661234567"),
            ("+212 (0)6 61 23 45 67", nil, "+212661234567"),
            ("066.123.45.67", "MA", "+212661234567"),
            ("212661234567", "MA", "+212661234567"),
            // Lebanon
            ("03 123 456", "LB", "+9613123456"),
            ("+961 (0)3 123 456", "MA", "+9613123456"),
            ("00961 3 123 456", "MA", "+9613123456"),
            ("٠٣ ١٢٣ ٤٥٦", "LB", "+9613123456"),
            ("71 123 456", "LB", "+96171123456"),
            ("(+961) 71-123-456", "LB", "+96171123456"),
            // Kuwait
            ("5000 1234", "KW", "+96550001234"),
            ("+965 6000 4321", "MA", "+96560004321"),
            ("00965 5000 1234", "MA", "+96550001234"),
            ("۵۰۰۰۱۲۳۴", "KW", "+96550001234"),
            ("(+965) 9000-1234", "KW", "+96590001234"),
            ("212680980068", "KW", "+212680980068"),  // too long for Kuwait: international without "+"
            // Mauritania
            ("42345678", "MR", "+22242345678"),
            ("+222 36 00 00 00", "MA", "+22236000000"),
            ("00222 22 12 34 56", "MA", "+22222123456"),
            ("٤٢٣٤٥٦٧٨", "MR", "+22242345678"),
            // Saudi Arabia
            ("050 123 4567", "SA", "+966501234567"),
            ("+966 50 123 4567", "MA", "+966501234567"),
            ("00966501234567", "MA", "+966501234567"),
            ("٠٥٠١٢٣٤٥٦٧", "SA", "+966501234567"),
            ("(+966) 55 123 4567", "SA", "+966551234567"),
            // United Arab Emirates
            ("050 123 4567", "AE", "+971501234567"),
            ("(+971) 50 123 4567", "MA", "+971501234567"),
            ("00971 55 123 4567", "MA", "+971551234567"),
            ("۰۵۰۱۲۳۴۵۶۷", "AE", "+971501234567"),
            // France
            ("06 12 34 56 78", "FR", "+33612345678"),
            ("06.12.34.56.78", "FR", "+33612345678"),
            ("+33 (0)6 12 34 56 78", "MA", "+33612345678"),
            ("0033 6 12 34 56 78", "MA", "+33612345678"),
            ("٠٦١٢٣٤٥٦٧٨", "FR", "+33612345678"),
            ("09 12 34 56 78", "FR", "+33912345678"),  // VoIP receives SMS
            // United States: fixed line or mobile, undecidable from the number, is accepted
            ("+1 201 555 0123", "MA", "+12015550123"),
        ] as [(String, String?, String)])
    func normalizes(raw: String, country: String?, expected: String) {
        #expect(PhoneNumber.normalize(raw, defaultCountry: country) == .success(expected))
    }

    @Test(
        "Numbers that cannot be messaged say why",
        arguments: [
            // Not valid for their country
            ("066123456789", "MA", "not a valid number for MA"),
            ("0000000000", "MA", "not a valid number for MA"),
            ("0661 23 45", "MA", "not a valid number for MA"),
            ("03 12 34", "LB", "not a valid number for LB"),
            ("12345678", "KW", "not a valid number for KW"),
            ("12345678", "MR", "not a valid number for MR"),
            ("4234567", "MR", "not a valid number for MR"),
            ("0512345", "SA", "not a valid number for SA"),
            ("0912345678", "SA", "not a valid number for SA"),
            ("0501234", "AE", "not a valid number for AE"),
            ("06 12 34 56", "FR", "not a valid number for FR"),
            ("+1 555 555 5555", "MA", "not a valid number for US"),
            // Numbers that exist but cannot receive a message
            ("0522123456", "MA", "fixed line, cannot receive SMS"),
            ("+212 5 22 12 34 56", "LB", "fixed line, cannot receive SMS"),
            ("01 123 456", "LB", "fixed line, cannot receive SMS"),
            ("+961 1 123 456", "MA", "fixed line, cannot receive SMS"),
            ("2221 2345", "KW", "fixed line, cannot receive SMS"),
            ("45 25 12 34", "MR", "fixed line, cannot receive SMS"),
            ("011 234 5678", "SA", "fixed line, cannot receive SMS"),
            ("04 234 5678", "AE", "fixed line, cannot receive SMS"),
            ("0145678901", "FR", "fixed line, cannot receive SMS"),
            ("01 45 67 89 01", "FR", "fixed line, cannot receive SMS"),
            ("0800 12 34 56", "FR", "toll-free number, cannot receive SMS"),
            ("0899 12 34 56", "FR", "premium-rate number, cannot receive SMS"),
            ("800 1234", "AE", "toll-free number, cannot receive SMS"),
            ("0892123456", "MA", "premium-rate number, cannot receive SMS"),
            // Not a phone number at all
            ("", "MA", "no phone number"),
            ("   ", "MA", "no phone number"),
            ("call me", "MA", "the phone number has letters in it"),
            ("0661-CALL-ME", "MA", "the phone number has letters in it"),
            ("---", "MA", "not a phone number"),
            (String(repeating: "1234567890", count: 4), "MA", "too many digits for a phone number"),
            ("+999 123 4567", "MA", "no country has the phone number's country code"),
            ("661234", nil, "cannot tell the country of the phone number (no country code, no default country)"),
            ("0661234567", "XX", "cannot tell the country of the phone number (unknown default country XX)"),
        ] as [(String, String?, String)])
    func rejects(raw: String, country: String?, reason: String) {
        let result = PhoneNumber.normalize(raw, defaultCountry: country)
        guard case .failure(let problem) = result else {
            Issue.record("\(raw) in \(country ?? "nil"): expected a failure, got \(result)")
            return
        }
        #expect(problem.description == reason)
    }

    @Test func theReasonNamesTheChannel() {
        #expect(
            PhoneNumber.normalize("0522123456", defaultCountry: "MA", channel: .whatsapp)
                == .failure(.cannotReceive(.fixedLine, .whatsapp)))
        #expect(
            PhoneNumber.Problem.cannotReceive(.fixedLine, .whatsapp).description
                == "fixed line, cannot receive WhatsApp")
        #expect(
            PhoneNumber.normalize("0661234567", defaultCountry: "MA", channel: .whatsapp) == .success("+212661234567"))
    }

    @Test(
        "The country of an E.164 number",
        arguments: [
            ("+212661234567", "MA"), ("+9613123456", "LB"), ("+96550001234", "KW"), ("+22242345678", "MR"),
            ("+966501234567", "SA"), ("+971501234567", "AE"), ("+33612345678", "FR"), ("+33145678901", "FR"),
            ("+12015550123", "US"), ("+15555555555", nil), ("0661234567", nil), ("", nil),
        ] as [(String, String?)])
    func country(e164: String, expected: String?) {
        #expect(PhoneNumber.country(of: e164) == expected)
    }

    @Test(
        "The time zone of a number's country, when the country has one",
        arguments: [
            ("+212661234567", "Africa/Casablanca"), ("+9613123456", "Asia/Beirut"), ("+96550001234", "Asia/Kuwait"),
            ("+22242345678", "Africa/Nouakchott"), ("+966501234567", "Asia/Riyadh"), ("+971501234567", "Asia/Dubai"),
            ("+33612345678", "Europe/Paris"), ("+12015550123", nil), ("+15555555555", nil),
        ] as [(String, String?)])
    func timeZone(e164: String, expected: String?) {
        #expect(PhoneNumber.timeZone(of: e164)?.identifier == expected)
    }

    /// libphonenumber links the system's ICU 72; Foundation carries its own. Both in one process.
    @Test func foundationFormattingAndThePhoneParserShareTheProcess() {
        let locale = Locale(identifier: "fr_MA")
        let before = Decimal(string: "1799.50")!.formatted(.currency(code: "MAD").locale(locale))
        #expect(PhoneNumber.normalize("٠٦٦١٢٣٤٥٦٧", defaultCountry: "MA") == .success("+212661234567"))
        #expect(PhoneNumber.timeZone(of: "+9613123456")?.identifier == "Asia/Beirut")
        let after = Decimal(string: "1799.50")!.formatted(.currency(code: "MAD").locale(locale))
        #expect(before == after)
        #expect(after.contains("799,50"))
        #expect(TimeZone(identifier: "Asia/Beirut")?.secondsFromGMT() != nil)
    }

    @Test func readsFromManyTasksAtOnce() async {
        let numbers = (0..<400).map { "06612\(String(format: "%05d", $0))" }
        let results = await withTaskGroup(of: Bool.self) { group in
            for number in numbers {
                group.addTask {
                    PhoneNumber.normalize(number, defaultCountry: "MA") == .success("+212" + number.dropFirst())
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == numbers.count)
        #expect(results.allSatisfy { $0 })
    }
}

@Suite("Recipients that cannot receive messages")
struct UnreachableRecipientTests {
    let fixture: RenderFixture

    init() throws { fixture = try RenderFixture() }

    @Test(arguments: [("sms", "SMS"), ("whatsapp", "WhatsApp")])
    func aLandlineHasNoRecipientAndSaysWhy(channel: String, service: String) throws {
        var event = fixture.event("cod-fulfillment", "delivered.json")
        event.customer.phone = "05 22 12 34 56"
        let message = try #require(fixture.renderer.render(fixture.rule("delivered", channel: channel), event: event))
        #expect(message.to == nil)
        #expect(message.idempotencyKey == nil)
        #expect(message.problems == ["recipient: fixed line, cannot receive \(service)"])
    }
}
