import Foundation
import HeraldCore
import HeraldDispatch
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Issue 12 item 7: nothing wrong reaches a provider — no empty text, nothing inside quiet hours,
/// no attempt used while credentials are unset, and a fallback chosen when the message is planned.
@Suite("Never wrong at send time")
struct SendTimeTests {
    let path = Fixtures.temporaryDatabasePath()
    let logs = LogRecorder()
    let noon = Date(timeIntervalSince1970: 1_778_414_400)  // 12:00 UTC, 13:00 in Casablanca
    static let credentials = [
        "TWILIO_ACCOUNT_SID": "AC0123456789abcdef", "TWILIO_AUTH_TOKEN": "twilio-token-xyz",
        "TWILIO_FROM": "+212500000000",
        "WA_PHONE_NUMBER_ID": "1055", "WA_TOKEN": "wa-token-abc",
    ]

    struct Pipeline {
        let ruleSet: RuleSet
        let store: SQLiteStore
        let processor: EventProcessor
        let dispatcher: Dispatcher
    }

    /// The shipped rules with `credentials` (and nothing else) set for the channels.
    func pipeline(
        port: Int, credentials: [String: String] = credentials, templates: TemplateStore? = nil,
        clock: @escaping @Sendable () -> Date
    ) throws -> Pipeline {
        let environment = Fixtures.environment.values.merging(credentials) { $1 }
        let ruleSet = try RuleSet.parse(
            yaml: try Fixtures.shippedRulesText(fakeProviderPort: port), file: "rules.yaml",
            environment: Environment(environment))
        let store = try SQLiteStore(path: path)
        let logger = logs.logger()
        let templates =
            try templates ?? TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
        return Pipeline(
            ruleSet: ruleSet, store: store,
            processor: EventProcessor(
                ruleSet: ruleSet, templates: templates, store: store, logger: logger, clock: clock),
            dispatcher: Dispatcher(
                store: store, ruleSet: ruleSet, channels: Dispatcher.channels(for: ruleSet, logger: logger),
                transport: SharedTransport.loopback(requestTimeout: 5), logger: logger, clock: clock, random: { 0.5 }))
    }

    func receive(_ p: Pipeline, _ file: String) async throws {
        let input = try Fixtures.envelope("cod-fulfillment", file)
        let profile = p.ruleSet.provider(named: "cod-fulfillment")!
        let request = WebhookRequest(
            provider: "cod-fulfillment", headers: input.headers, body: input.body, receivedAt: input.receivedAt ?? noon)
        _ = try await p.store.record(
            IncomingEvent(request: request, profile: profile))
    }

    /// A templates folder that has none of the rules' templates: planning fails with no text.
    static func wrongTemplates() throws -> TemplateStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-wrong-\(UUID().uuidString)")
        let other = folder.appendingPathComponent("unrelated")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try "Bonjour".write(to: other.appendingPathComponent("fr.mustache"), atomically: true, encoding: .utf8)
        return try TemplateStore.load(path: folder.path)
    }

    @Test func dispatcherRefusesAnEmptyText() async throws {
        let noon = self.noon
        try await withFake { fake, port in
            let p = try pipeline(port: port, templates: try Self.wrongTemplates(), clock: { noon })
            try await receive(p, "05-delivered.json")
            try await p.processor.processPending()
            let failed = try await p.store.messages(MessageQuery(state: .failed))
            #expect(failed.count == 1)
            #expect(failed.first?.text == "")
            // What `herald retry` did before: put it back as it is. The dispatcher still refuses it.
            _ = try await p.store.release(ids: failed.map(\.id), at: noon)
            try await p.dispatcher.dispatchDue()
            #expect(fake.requests.isEmpty)
            let after = try await p.store.messages(MessageQuery())
            #expect(after.map(\.state) == [.failed])
            #expect(after.first?.lastError?.hasPrefix("refused to send an empty text") == true)
            try await p.store.close()
        }
    }

    @Test func retryOfAMessageFailedAtPlanningIsRenderedAgainAndKeepsQuietHours() async throws {
        let noon = self.noon
        let clock = Mutex(noon)
        try await withFake { fake, port in
            let broken = try pipeline(
                port: port, templates: try Self.wrongTemplates(), clock: { clock.withLock { $0 } })
            try await receive(broken, "05-delivered.json")
            try await broken.processor.processPending()
            let failed = try #require(try await broken.store.messages(MessageQuery(state: .failed)).first)
            try await broken.store.close()

            // 23:00 in Casablanca: the operator fixes the templates and retries.
            let night = noon.addingTimeInterval(10 * 3600)
            clock.withLock { $0 = night }
            let p = try pipeline(port: port, clock: { clock.withLock { $0 } })
            let event = try #require(try await p.store.event(id: failed.eventID))
            let replanned = try #require(await p.processor.replanned(failed, event: event))
            #expect(replanned.state == .pending)
            #expect(try await p.store.replan(id: failed.id, with: replanned))
            #expect(try await p.store.release(ids: [failed.id], at: night) == [failed.id])

            try await p.dispatcher.dispatchDue()
            #expect(fake.requests.isEmpty)
            let waiting = try #require(try await p.store.messages(MessageQuery()).first)
            #expect(waiting.state == .pending)
            #expect(waiting.attempts == 0)
            // 08:30 in Casablanca (UTC+1 in May) is 07:30 UTC the next day.
            let endOfWindow = Date(timeIntervalSince1970: 1_778_414_400 + 19.5 * 3600)
            #expect(waiting.nextAttemptAt == endOfWindow)
            clock.withLock { $0 = endOfWindow.addingTimeInterval(-60) }
            #expect(try await p.dispatcher.dispatchDue() == 0)
            #expect(fake.requests.isEmpty)

            clock.withLock { $0 = endOfWindow }
            try await p.dispatcher.dispatchDue()
            let request = try #require(fake.requests.first)
            #expect(fake.requests.count == 1)
            #expect(request.body.contains("Body=Bonjour%20Salma"))
            #expect(try await p.store.messages(MessageQuery()).map(\.state) == [.sent])
            try await p.store.close()
        }
    }

    @Test func heldRetryWithCredentialsStillUnsetUsesNoAttempt() async throws {
        let noon = self.noon
        try await withFake { fake, port in
            var credentials = Self.credentials
            credentials["TWILIO_AUTH_TOKEN"] = nil
            let p = try pipeline(port: port, credentials: credentials, clock: { noon })
            try await receive(p, "05-delivered.json")
            try await p.processor.processPending()
            let held = try await p.store.messages(MessageQuery(state: .held))
            #expect(held.count == 1)
            #expect(held.first?.lastError == "channel 'sms' credentials not set: TWILIO_AUTH_TOKEN")
            #expect(logs.text.contains("message held at planning"))
            #expect(!logs.text.contains("+212661234567"))

            for _ in 0..<3 {
                _ = try await p.store.release(ids: held.map(\.id), at: noon)
                try await p.dispatcher.dispatchDue()
            }
            #expect(fake.requests.isEmpty)
            let after = try #require(try await p.store.messages(MessageQuery()).first)
            #expect(after.state == .held)
            #expect(after.attempts == 0)
            // What serve says at start-up.
            let summary = try await HeldMessages.count(in: p.store)
            #expect(summary.total == 1)
            #expect(
                summary.groups.map { "\($0.channel): \($0.count) \($0.reason)" } == [
                    "sms: 1 channel 'sms' credentials not set: TWILIO_AUTH_TOKEN"
                ])
            try await p.store.close()
        }
    }

    @Test func ruleOnAChannelThatCannotSendIsPlannedOnItsFallback() async throws {
        let noon = self.noon
        try await withFake { fake, port in
            var credentials = Self.credentials
            credentials["WA_TOKEN"] = nil
            let p = try pipeline(port: port, credentials: credentials, clock: { noon })
            try await receive(p, "03-out_for_delivery.json")
            try await p.processor.processPending()
            let messages = try await p.store.messages(MessageQuery())
            let fallback = try #require(messages.first { $0.rule == "out-for-delivery" })
            #expect(fallback.channel == "sms")
            #expect(fallback.state == .pending)
            #expect(messages.allSatisfy { $0.state == .pending && $0.channel == "sms" })
            #expect(
                fallback.idempotencyKey
                    == IdempotencyKey.make(
                        provider: "cod-fulfillment", reference: "ORD-000130", status: "out_for_delivery",
                        rule: "out-for-delivery", channel: "sms", recipient: "+212661234567"))
            try await p.dispatcher.dispatchDue()
            #expect(fake.requests.filter { $0.path.hasSuffix("Messages.json") }.count == messages.count)
            #expect(fake.requests.allSatisfy { $0.path.hasSuffix("Messages.json") })
            try await p.store.close()
        }
    }
}
