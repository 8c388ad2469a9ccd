import Foundation
import HeraldCore
import Testing

/// Twilio signatures checked against the official `twilio` Python package (9.13.0, `pip install
/// twilio`), computed once with:
///
///     from twilio.request_validator import RequestValidator
///     RequestValidator("tw-token").compute_signature(url, params)
///
/// for each URL and parameter dictionary below (`validate` also accepted the third one for the
/// URL without `:443`, the port forms its `add_port`/`remove_port` try).
extension ReceiptSignatureTests {
    static let libraryVectors: [(url: String, fields: [ReceiptField], signature: String)] = [
        (
            "https://herald.example.com/receipts/sms?key=k-sms&note=a%20b",
            [
                ReceiptField("MessageSid", "SM77"), ReceiptField("SmsStatus", "received"),
                ReceiptField("From", "+212661234567"), ReceiptField("To", "+212500000000"),
                ReceiptField("Body", "Arrêt, s’il vous plaît"),
            ],
            "fQO8IH1+mTxXgSp3lnT4rxhji1A="
        ),
        (
            "https://herald.example.com/receipts/sms?key=k-sms",
            [
                ReceiptField("MessageSid", "SM78"), ReceiptField("SmsStatus", "received"),
                ReceiptField("From", "+212661234567"), ReceiptField("Body", "توقف 🚫 a+b&c=d"),
            ],
            "YWgdFZPiI43M0jzgf1oSAFCabtE="
        ),
        (
            "https://herald.example.com:443/receipts/sms?key=k-sms",
            [
                ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "delivered"),
                ReceiptField("AccountSid", "AC1"),
            ],
            "oqA8GL1gkNF35PG8qNBA0nhnGAk="
        ),
    ]

    @Test func twilioSignaturesMatchTheOfficialPythonPackage() throws {
        for vector in Self.libraryVectors {
            #expect(
                TwilioSignature.compute(url: vector.url, fields: vector.fields, authToken: "tw-token")
                    == vector.signature, "\(vector.url)")
            // Through the form body as Twilio posts it, decoded by Herald.
            let fields = try FormBody.decode(Array(FormBody.encode(vector.fields).utf8))
            #expect(TwilioSignature.isValid(vector.signature, url: vector.url, fields: fields, authToken: "tw-token"))
        }
        // Signed over the URL with `:443`, checked against the public URL without it.
        let withPort = Self.libraryVectors[2]
        #expect(
            TwilioSignature.isValid(
                withPort.signature, anyFormOf: "https://herald.example.com/receipts/sms?key=k-sms",
                fields: withPort.fields, authToken: "tw-token"))
        #expect(
            !TwilioSignature.isValid(
                withPort.signature, url: "https://herald.example.com/receipts/sms?key=k-sms",
                fields: withPort.fields, authToken: "tw-token"))
    }

    @Test func twilioURLVariantsAreTheDefaultPortOnlyForms() {
        #expect(
            TwilioSignature.urlVariants("https://h.example/receipts/sms?key=1")
                == ["https://h.example/receipts/sms?key=1", "https://h.example:443/receipts/sms?key=1"])
        #expect(
            TwilioSignature.urlVariants("https://h.example:443/r") == [
                "https://h.example:443/r", "https://h.example/r",
            ])
        #expect(TwilioSignature.urlVariants("http://h.example/r") == ["http://h.example/r", "http://h.example:80/r"])
        #expect(TwilioSignature.urlVariants("http://h.example:80") == ["http://h.example:80", "http://h.example"])
        #expect(TwilioSignature.urlVariants("https://h.example:8443/r") == ["https://h.example:8443/r"])
        #expect(TwilioSignature.urlVariants("https://[::1]/r") == ["https://[::1]/r", "https://[::1]:443/r"])
        #expect(
            TwilioSignature.urlVariants("https://u:p@h.example/r") == [
                "https://u:p@h.example/r", "https://u:p@h.example:443/r",
            ])
    }

    @Test func aFormThatDoesNotDecodeIsReadLenientlyForTheSignature() throws {
        let body = Array("A=100%+sure&B=%zz&C=%E2%9C%93&D=%C3".utf8)
        #expect(throws: FormBody.DecodingError.self) { try FormBody.decode(body) }
        #expect(
            FormBody.decodeLeniently(body) == [
                ReceiptField("A", "100% sure"), ReceiptField("B", "%zz"), ReceiptField("C", "✓"),
                ReceiptField("D", "\u{FFFD}"),
            ])
        let good = Array("MessageSid=SM1&Body=Arr%C3%AAt+%E2%80%94".utf8)
        #expect(FormBody.decodeLeniently(good) == (try FormBody.decode(good)))
    }
}
