import Foundation
import HeraldCore
import HeraldDispatch
import HeraldTestSupport
import Testing

/// The requests Herald's channels send, pinned in `Golden/requests/`. `Tests/schema/validate_requests.py`
/// (run by .ci/run) validates those same files against Twilio's and Meta's official OpenAPI specs
/// copied into `Tests/specs/`, so a channel change that breaks the spec fails one side or the other.
@Suite("Channel requests match the pinned, spec-validated examples")
struct SpecRequestTests {
    static let folder = Fixtures.root.appendingPathComponent("Tests/HeraldServerTests/Golden/requests")

    static func requests() throws -> [(String, OutgoingRequest)] {
        func channel(_ type: String, _ settings: [String: String]) throws -> any MessageChannel {
            try Channels.make(ChannelFixtures.channel(type, settings))
        }
        let key = "8172cbe036664f5bfcf85d04bf1ae80a7098d2cad472e570f6255397f8a63d82"
        let text = "Bonjour Salma, votre commande ORD-000130 a bien été livrée."
        let twilio = try channel("twilio", [
            "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t", "from": "+212500000000",
            "status_callback": "https://herald.example/twilio/status",
        ])
        let service = try channel("twilio", ["account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t", "messaging_service_sid": "MG0123456789abcdef0123456789abcdef"])
        let whatsapp = try channel("whatsapp-cloud", ["phone_number_id": "106540352242922", "token": "t"])
        let call = WhatsAppTemplateCall(name: "herald_out_for_delivery", language: "ar", parameters: ["\u{2068}Salma\u{2069}", "\u{2068}ORD-000130\u{2069}"])
        return [
            ("twilio-sms.form", try twilio.request(for: ChannelMessage(idempotencyKey: key, to: "+212661234567", text: text, locale: "fr"))),
            ("twilio-messaging-service.form", try service.request(for: ChannelMessage(idempotencyKey: key, to: "+212661234567", text: text, locale: "fr"))),
            ("whatsapp-template.json", try whatsapp.request(for: ChannelMessage(idempotencyKey: key, to: "+212661234567", text: text, locale: "ar", whatsapp: call))),
            ("whatsapp-text.json", try whatsapp.request(for: ChannelMessage(idempotencyKey: key, to: "+212661234567", text: text, locale: "fr"))),
            // The lookup after an unknown outcome: its query stands where a POST's body would.
            (
                "twilio-lookup.query",
                try #require(twilio as? TwilioChannel).lookupRequest(
                    for: ChannelMessage(idempotencyKey: key, to: "+212661234567", text: text, locale: "fr"))
            ),
        ]
    }

    @Test func requestsMatchThePinnedExamples() throws {
        for (name, request) in try Self.requests() {
            let file = Self.folder.appendingPathComponent(name)
            let content =
                request.method == "GET" ? request.url.query ?? "" : String(decoding: request.body, as: UTF8.self)
            let actual = "\(request.method) \(request.url.path)\n" + content + "\n"
            if ProcessInfo.processInfo.environment["HERALD_UPDATE_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
                try actual.write(to: file, atomically: true, encoding: .utf8)
            }
            #expect(try String(contentsOf: file, encoding: .utf8) == actual, "\(name)")
        }
    }
}
