import Foundation
import HeraldCore
import Testing

/// Expected values are computed outside Herald: Twilio's own known answer from the official
/// `twilio-python` tests (`tests/unit/test_request_validator.py`), and Python's `hmac` module run
/// the way the providers document (Twilio: URL + sorted name/value pairs, HMAC-SHA1, base64;
/// Meta: hex HMAC-SHA256 of the raw body).
@Suite("Receipt signatures")
struct ReceiptSignatureTests {
    /// Twilio's documented example: token `12345`, a URL with its own query string.
    let twilioURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    let twilioFields = [
        ReceiptField("CallSid", "CA1234567890ABCDE"), ReceiptField("Digits", "1234"),
        ReceiptField("From", "+14158675309"), ReceiptField("To", "+18005551212"),
        ReceiptField("Caller", "+14158675309"),
    ]

    @Test func twilioKnownAnswerFromItsHelperLibrary() {
        #expect(
            TwilioSignature.compute(url: twilioURL, fields: twilioFields, authToken: "12345")
                == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(
            TwilioSignature.isValid(
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: twilioURL, fields: twilioFields, authToken: "12345"))
    }

    @Test func twilioRepeatedFieldsAreSortedByValueToo() {
        let fields = [
            ReceiptField("Sid", "CA123"), ReceiptField("SidAccount", "AC123"), ReceiptField("Digits", "5678"),
            ReceiptField("Digits", "1234"),
        ]
        #expect(
            TwilioSignature.compute(url: twilioURL, fields: fields, authToken: "12345")
                == "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    }

    /// An inbound reply in French and Arabic, posted to a receipts URL that carries `?key=`; the body
    /// is the form Python's `urlencode` writes for these fields.
    @Test func twilioNonASCIIFormValuesSignedFromTheDecodedForm() throws {
        let body =
            "MessageSid=SM0123456789abcdef0123456789abcdef&Body=Arr%C3%AAt+%E2%80%94+%D8%AA%D9%88%D9%82%D9%81"
            + "&From=%2B212612345678&To=%2B212522000000&AccountSid=AC00000000000000000000000000000000"
        let fields = try FormBody.decode(Array(body.utf8))
        #expect(fields.first { $0.name == "Body" }?.value == "Arrêt — توقف")
        let url = "https://herald.example.com/receipts/sms-ma?key=9f86d081884c7d65"
        #expect(
            TwilioSignature.isValid(
                "N3oEnxLn8EUHLK3RlZb1C4faJXU=", url: url, fields: fields, authToken: "tw-auth-token"))
    }

    @Test func twilioRejectsAnythingElse() throws {
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        // Another token, the URL without its query, a changed value, a missing field, no header.
        #expect(!TwilioSignature.isValid(good, url: twilioURL, fields: twilioFields, authToken: "54321"))
        #expect(
            !TwilioSignature.isValid(
                good, url: "https://mycompany.com/myapp.php", fields: twilioFields, authToken: "12345"))
        var changed = twilioFields
        changed[1].value = "1235"
        #expect(!TwilioSignature.isValid(good, url: twilioURL, fields: changed, authToken: "12345"))
        #expect(
            !TwilioSignature.isValid(good, url: twilioURL, fields: Array(twilioFields.dropLast()), authToken: "12345"))
        #expect(!TwilioSignature.isValid(nil, url: twilioURL, fields: twilioFields, authToken: "12345"))
        #expect(!TwilioSignature.isValid("", url: twilioURL, fields: twilioFields, authToken: "12345"))
        // An unset token never validates, not even a signature made with the empty key.
        let emptyKey = TwilioSignature.compute(url: twilioURL, fields: twilioFields, authToken: "")
        #expect(!TwilioSignature.isValid(emptyKey, url: twilioURL, fields: twilioFields, authToken: ""))
    }

    let metaBody = Array(
        (#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","#
            + #""value":{"statuses":[{"id":"wamid.X","status":"read","timestamp":"1764400000","#
            + #""recipient_id":"212612345678"}]}}]}]}"#).utf8)
    let metaSignature = "sha256=10fcddcefa8de3d6a9dce8eea5461ce9c0755efd3b84271a0e0decda7ad30a42"

    @Test func metaHexHMACOfTheRawBody() {
        #expect(MetaSignature.compute(body: metaBody, appSecret: "sécret-app") == metaSignature)
        #expect(MetaSignature.isValid(metaSignature, body: metaBody, appSecret: "sécret-app"))
        #expect(
            MetaSignature.isValid(
                metaSignature.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="),
                body: metaBody, appSecret: "sécret-app"))
    }

    @Test func metaRejectsAnythingElse() {
        #expect(!MetaSignature.isValid(metaSignature, body: metaBody, appSecret: "other"))
        #expect(!MetaSignature.isValid(metaSignature, body: metaBody + [0x20], appSecret: "sécret-app"))
        #expect(!MetaSignature.isValid(String(metaSignature.dropFirst(7)), body: metaBody, appSecret: "sécret-app"))
        #expect(!MetaSignature.isValid("sha1=" + metaSignature.dropFirst(7), body: metaBody, appSecret: "sécret-app"))
        #expect(!MetaSignature.isValid(nil, body: metaBody, appSecret: "sécret-app"))
        #expect(!MetaSignature.isValid("sha256=zz", body: metaBody, appSecret: "sécret-app"))
    }

    @Test func formBodyRoundTripsAndRejectsBrokenEscapes() throws {
        let fields = [ReceiptField("Body", "Merci, reçu ✓ a+b=c&d"), ReceiptField("From", "whatsapp:+212612345678")]
        #expect(try FormBody.decode(Array(FormBody.encode(fields).utf8)) == fields)
        #expect(throws: FormBody.DecodingError.self) { try FormBody.decode(Array("Body=%E".utf8)) }
        #expect(throws: FormBody.DecodingError.self) { try FormBody.decode(Array("Body=%FF".utf8)) }
    }
}
