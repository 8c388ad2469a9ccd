import Foundation
import HeraldCore
import HeraldDispatch
import HeraldTestSupport
import Testing

/// `ListMessage` after a send whose answer was lost, as Twilio answers it (spec-shaped pages).
@Suite("Twilio lookup of an unknown outcome")
struct TwilioLookupTests {
    let attempt = Date(timeIntervalSince1970: 1_778_414_400)  // Sun, 10 May 2026 12:00:00 +0000
    let message = ChannelMessage(
        idempotencyKey: String(repeating: "a", count: 64), to: "+212661234567", text: "Bonjour Salma, c'est livré",
        locale: "fr")

    func channel(_ settings: [String: String] = ["from": "+212500000000"]) throws -> TwilioChannel {
        let base = ["account_sid": "AC1", "auth_token": "t"].merging(settings) { $1 }
        return try #require(
            try Channels.make(ChannelFixtures.channel("twilio", base))
                as? TwilioChannel)
    }

    func entry(
        _ sid: String, body: String, at offset: TimeInterval, from: String = "+212500000000", service: String? = nil
    ) -> String {
        let service = service.map { "\"\($0)\"" } ?? "null"
        return #"{"sid":"\#(sid)","to":"+212661234567","from":"\#(from)","body":"\#(body)","#
            + #""date_created":"\#(TwilioDates.rfc2822(attempt.addingTimeInterval(offset)))","status":"sent","#
            + #""messaging_service_sid":\#(service),"account_sid":"AC1","direction":"outbound-api"}"#
    }

    func page(_ entries: [String], next: String?) -> ScriptedTransport.Step {
        let next = next.map { "\"\($0)\"" } ?? "null"
        return ScriptedTransport.json(
            200, #"{"messages":[\#(entries.joined(separator: ","))],"next_page_uri":\#(next),"page":0,"page_size":2}"#)
    }

    @Test func readsPagesNewestFirstUntilItFindsTheMessage() async throws {
        let nextPage =
            "/2010-04-01/Accounts/AC1/Messages.json?To=%2B212661234567&From=%2B212500000000&PageSize=2&Page=1&PageToken=PA1"
        let transport = ScriptedTransport([
            page(
                [
                    entry("SMnewer", body: "Votre commande est en route", at: 40),
                    entry("SMother", body: "Bonjour", at: 20),
                ], next: nextPage),
            page(
                [entry("SMmatch", body: message.text, at: 1), entry("SMold", body: "Merci", at: -3_600)], next: "/more"),
        ])
        let outcome = try await channel().lookUp(message, attemptedAt: attempt, transport: transport)
        #expect(outcome == .found(providerID: "SMmatch"))
        let requests = transport.requests
        #expect(requests.map(\.method) == ["GET", "GET"])
        #expect(
            requests[0].url.absoluteString
                == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B212661234567&From=%2B212500000000&PageSize=50"
        )
        #expect(requests[1].url.absoluteString == "https://api.twilio.com" + nextPage)
        #expect(
            requests.allSatisfy { $0.headers["Authorization"] == "Basic " + Data("AC1:t".utf8).base64EncodedString() })
    }

    @Test func stopsAtMessagesOlderThanTheAttempt() async throws {
        // The same text an hour earlier is another message (the order's earlier one); the walk ends there.
        let transport = ScriptedTransport([
            page(
                [entry("SMnewer", body: "Autre", at: 30), entry("SMyesterday", body: "Autre", at: -3_600)],
                next: "/2010-04-01/x")
        ])
        #expect(try await channel().lookUp(message, attemptedAt: attempt, transport: transport) == .notFound)
        #expect(transport.requests.count == 1)
    }

    @Test func aMessageCreatedJustBeforeTheAttemptByTwiliosClockStillCounts() async throws {
        let transport = ScriptedTransport([page([entry("SMskewed", body: message.text, at: -30)], next: nil)])
        #expect(
            try await channel().lookUp(message, attemptedAt: attempt, transport: transport)
                == .found(providerID: "SMskewed"))
    }

    @Test func theSameTextFromAnotherSenderIsNotIt() async throws {
        let transport = ScriptedTransport([
            page([entry("SMelse", body: message.text, at: 2, from: "+212599999999")], next: nil)
        ])
        #expect(try await channel().lookUp(message, attemptedAt: attempt, transport: transport) == .notFound)
    }

    @Test func aMessagingServiceMatchesByItsSID() async throws {
        let service = try channel(["messaging_service_sid": "MG1"])
        #expect(service.lookupRequest(for: message).url.query == "To=%2B212661234567&PageSize=50")
        let transport = ScriptedTransport([
            page(
                [
                    entry("SMother", body: message.text, at: 2, service: "MG2"),
                    entry("SMmine", body: message.text, at: 1, service: "MG1"),
                ],
                next: nil)
        ])
        #expect(
            await service.lookUp(message, attemptedAt: attempt, transport: transport) == .found(providerID: "SMmine"))
    }

    @Test func aFailedLookupSaysSoAndIsNeverTakenForAbsence() async throws {
        let twilio = try channel()
        let throttled = ScriptedTransport([
            ScriptedTransport.json(429, #"{"code":20429,"message":"Too Many Requests","status":429}"#)
        ])
        #expect(
            await twilio.lookUp(message, attemptedAt: attempt, transport: throttled)
                == .failed("lookup: twilio HTTP 429"))
        let lost = ScriptedTransport([.error(.unknownOutcome("timedOut"))])
        guard case .failed = await twilio.lookUp(message, attemptedAt: attempt, transport: lost) else {
            Issue.record("a timed-out lookup is a failed lookup")
            return
        }
    }
}
