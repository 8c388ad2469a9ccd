import Foundation
import HeraldCore
import HeraldDispatch
import HeraldServer
import HeraldTestSupport
import Testing

@Suite("Channel requests and error classification")
struct ChannelTests {
    let message = ChannelMessage(idempotencyKey: String(repeating: "a", count: 64), to: "+212661234567", text: "Bonjour Karim, c'est livré", locale: "fr")

    func channel(_ type: String, _ settings: [String: String]) throws -> any MessageChannel {
        try Channels.make(ChannelFixtures.channel(type, settings))
    }

    @Test func twilioWhatsAppAddresses() throws {
        let twilio = try channel("twilio", ["account_sid": "AC1", "auth_token": "t", "from": "+14155238886", "whatsapp": "true"])
        let body = String(decoding: try twilio.request(for: message).body, as: UTF8.self)
        #expect(body.hasPrefix("To=whatsapp%3A%2B212661234567&From=whatsapp%3A%2B14155238886&Body="))
    }

    /// Every request Herald makes names it and its version; a gateway's own User-Agent header wins.
    @Test func everyRequestSaysHeraldAndItsVersion() throws {
        let twilio = try channel("twilio", ["account_sid": "AC1", "auth_token": "t", "from": "+14155238886"])
        let whatsapp = try channel("whatsapp-cloud", ["phone_number_id": "1", "token": "w"])
        let gateway = try channel("http", ["url": "https://sms.example.ma/v1", "body.to": "{{to}}"])
        for channel in [twilio, whatsapp, gateway] {
            let request = try channel.request(for: message)
            #expect(request.headers["User-Agent"] == "herald/\(HeraldVersion.number)")
        }
        #expect(HeraldVersion.userAgent.hasPrefix("herald/"))
        let custom = try channel("http", ["url": "https://sms.example.ma/v1", "headers.user-agent": "shop/1"])
        let agents = try custom.request(for: message).headers.filter { $0.key.lowercased() == "user-agent" }
        #expect(agents.map(\.value) == ["shop/1"])
    }

    /// Twilio has no idempotency header for sends: `I-Twilio-Idempotency-Token` is one it sends to webhooks.
    @Test func twilioSendsNoIdempotencyHeader() throws {
        let twilio = try channel("twilio", ["account_sid": "AC1", "auth_token": "t", "from": "+14155238886"])
        let request = try twilio.request(for: message)
        #expect(request.headers.keys.sorted() == ["Authorization", "Content-Type", "User-Agent"])
        #expect(!twilio.isIdempotent)
    }

    @Test func httpGatewayRendersItsBodyAndSendsTheKey() throws {
        let gateway = try channel("http", [
            "url": "https://sms.example.ma/v1/messages", "headers.Authorization": "Bearer g", "body.to": "{{to}}",
            "body.text": "{{text}}", "body.ref": "{{idempotency_key}}",
        ])
        let request = try gateway.request(for: message)
        #expect(request.url.absoluteString == "https://sms.example.ma/v1/messages")
        #expect(request.headers["Idempotency-Key"] == message.idempotencyKey)
        #expect(request.headers["Authorization"] == "Bearer g")
        let json = try JSONParser.parse(request.body)
        #expect(json["to"] == .string("+212661234567"))
        #expect(json["text"] == .string("Bonjour Karim, c'est livré"))  // not HTML-escaped
        #expect(json["ref"] == .string(message.idempotencyKey))
    }

    @Test(
        "WhatsApp errors",
        arguments: [
            (400, #"{"error":{"code":131026,"message":"Message undeliverable"}}"#, "failed"),
            (400, #"{"error":{"code":100,"message":"Invalid parameter"}}"#, "failed"),
            (400, #"{"error":{"code":131047,"message":"Re-engagement message"}}"#, "fallback"),
            // The customer stopped marketing messages only: this message fails, the number stays reachable.
            (400, #"{"error":{"code":131050,"message":"Unable to deliver the message"}}"#, "failed"),
            (401, #"{"error":{"code":190,"message":"Session has expired"}}"#, "hold"),
            (429, #"{"error":{"code":130429,"message":"Rate limit hit"}}"#, "retry"),
            (400, #"{"error":{"code":131056,"message":"Pair rate limit hit"}}"#, "retry"),
            // Rate limits, as the Graph API writes them: retried later, not failed.
            (
                400,
                #"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"error_data":{"messaging_product":"whatsapp","details":"Application request limit reached"},"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#,
                "retry"
            ),
            (
                400,
                #"{"error":{"message":"(#80007) Rate limit issues","type":"OAuthException","code":80007,"error_data":{"messaging_product":"whatsapp","details":"The WhatsApp Business Account has reached its rate limit."},"fbtrace_id":"AbC"}}"#,
                "retry"
            ),
            (
                400,
                #"{"error":{"message":"(#131048) Spam rate limit hit","type":"OAuthException","code":131048,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there are restrictions on how many messages can be sent from this phone number."},"fbtrace_id":"AbC"}}"#,
                "retry"
            ),
            (503, "upstream down", "retry"),
            (200, #"{"messages":[{"id":"wamid.X"}]}"#, "sent"),
        ])
    func whatsappClassification(status: Int, body: String, expected: String) throws {
        let whatsapp = try channel("whatsapp-cloud", ["phone_number_id": "1", "token": "t"])
        #expect(Self.kind(whatsapp.classify(IncomingResponse(status: status, body: Array(body.utf8)))) == expected)
    }

    @Test(
        "Twilio errors",
        arguments: [
            (400, #"{"code":21211,"message":"Invalid 'To' Phone Number"}"#, "failed"),
            (400, #"{"code":21614,"message":"not a mobile number"}"#, "failed"),
            (400, #"{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}"#, "opted out"),
            (
                400,
                #"{"code":21408,"message":"Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +22236000000.","more_info":"https://www.twilio.com/docs/errors/21408","status":400}"#,
                "operator: geo_permission"
            ),
            (429, #"{"code":20429,"message":"Too Many Requests"}"#, "retry"),
            (500, #"{"code":20500,"message":"Internal Server Error"}"#, "retry"),
            (401, #"{"code":20003,"message":"Authenticate"}"#, "hold"),
            (201, #"{"sid":"SM1"}"#, "sent"),
        ])
    func twilioClassification(status: Int, body: String, expected: String) throws {
        let twilio = try channel("twilio", ["account_sid": "AC1", "auth_token": "t", "from": "+1"])
        #expect(Self.kind(twilio.classify(IncomingResponse(status: status, body: Array(body.utf8)))) == expected)
    }

    @Test func misconfiguredChannelsSayWhatIsMissing() {
        #expect(Self.configErrors { _ = try channel("twilio", ["account_sid": "AC1", "auth_token": "t"]) } == [
            "rules.yaml:3:3: error: channel 'c' (twilio) needs 'from' or 'messaging_service_sid'"
        ])
        #expect(Self.configErrors { _ = try channel("pigeon", [:]) } == [
            "rules.yaml:3:14: error: unknown type 'pigeon' in channel 'c' (twilio, whatsapp-cloud or http)"
        ])
    }

    static func configErrors(_ body: () throws -> Void) -> [String] {
        do {
            try body()
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    static func kind(_ outcome: SendOutcome) -> String {
        switch outcome {
        case .sent: return "sent"
        case .retry: return "retry"
        case .failed: return "failed"
        case .hold: return "hold"
        case .fallback: return "fallback"
        case .unknownOutcome: return "unknown"
        case .optedOut: return "opted out"
        case .needsOperator(_, let alert): return "operator: \(alert.rawValue)"
        }
    }
}

@Test(arguments: [
    ("The 'To' number +96550001234 is not a valid phone number.", "The 'To' number +965•••••234 is not a valid phone number."),
    ("21614: '00961 3 123 456' is not a mobile number", "21614: '0096•••••456' is not a mobile number"),
    ("twilio 21211: Invalid 'To' Phone Number", "twilio 21211: Invalid 'To' Phone Number"),
    ("order ORD-000130 at 2026-05-10", "order ORD-000130 at 2026-05-10"),
])
func providerErrorTextHasPhoneNumbersMasked(text: String, expected: String) {
    #expect(LogSafe.redactingPhones(text) == expected)
}
