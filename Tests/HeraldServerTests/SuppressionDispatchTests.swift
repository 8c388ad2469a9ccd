import Foundation
import HeraldCore
import HeraldDispatch
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Opt-outs, end to end: the fake Twilio answers 21610 as Twilio does, and the number gets nothing more.
@Suite("Suppressed numbers reach no provider")
struct SuppressionDispatchTests {
    let templates: TemplateStore
    let logs = LogRecorder()
    let now = Date(timeIntervalSince1970: 1_778_414_400)  // 12:00 UTC: no quiet hours
    let salma = "+212661234567"

    /// Twilio's answer to a send to a number that replied STOP (its error 21610, as documented).
    static let unsubscribed = FakeProvider.Answer(
        status: .badRequest,
        body:
            #"{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}"#
    )

    init() throws {
        templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
    }

    struct Pipeline {
        let store: any Store
        let ruleSet: RuleSet
        let processor: EventProcessor
        let dispatcher: Dispatcher
    }

    func pipeline(port: Int, concurrency: Int = 32, kind: StoreKind = .sqlite) async throws -> Pipeline {
        var environment = Fixtures.environment.values
        environment.merge([
            "TWILIO_ACCOUNT_SID": "AC0123456789abcdef", "TWILIO_AUTH_TOKEN": "twilio-token-xyz",
            "TWILIO_FROM": "+212500000000", "WA_PHONE_NUMBER_ID": "1055", "WA_TOKEN": "wa-token-abc",
        ]) { $1 }
        let rules = try RuleSet.parse(
            yaml: try Fixtures.shippedRulesText(fakeProviderPort: port), file: "rules.yaml",
            environment: Environment(environment))
        let store = try await kind.open()
        let logger = logs.logger()
        let fixedNow = now
        return Pipeline(
            store: store, ruleSet: rules,
            processor: EventProcessor(
                ruleSet: rules, templates: templates, store: store, logger: logger, clock: { fixedNow }),
            dispatcher: Dispatcher(
                store: store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
                transport: SharedTransport.loopback(requestTimeout: 5), logger: logger, clock: { fixedNow },
                random: { 0.5 },
                concurrency: concurrency))
    }

    func receive(_ p: Pipeline, _ provider: String, _ file: String) async throws {
        let input = try Fixtures.envelope(provider, file)
        let profile = try #require(p.ruleSet.provider(named: provider))
        let request = WebhookRequest(
            provider: provider, headers: input.headers, body: input.body, receivedAt: input.receivedAt ?? now)
        _ = try await p.store.record(
            IncomingEvent(request: request, profile: profile))
    }

    /// Salma's parcel leaves (WhatsApp, and an SMS because the courier will call): Twilio answers
    /// 21610. Her "delivered" SMS is then `suppressed` with the reason, and no request is made.
    @Test(arguments: StoreKind.allCases)
    func aNumberThatAnswered21610GetsNothingMore(kind: StoreKind) async throws {
        try await withFake { fake, port in
            let p = try await pipeline(port: port, kind: kind)
            try await receive(p, "cod-fulfillment", "03-out_for_delivery.json")
            try await p.processor.processPending()
            fake.answer("Messages.json", Self.unsubscribed)
            try await p.dispatcher.dispatchDue()
            let refused = try #require(try await p.store.messages(MessageQuery(state: .failed)).first)
            #expect(refused.rule == "courier-will-call")
            #expect(refused.lastError == "twilio 21610: Attempt to send to unsubscribed recipient")
            let list = try await p.store.suppressions(numbers: nil)
            #expect(list.map(\.number) == [salma])
            #expect(list.first?.scope == .allChannels)
            #expect(list.first?.source == .providerError)
            #expect(list.first?.reason == "twilio 21610: Attempt to send to unsubscribed recipient")
            #expect(logs.text.contains("recipient opted out: number suppressed"))
            let requestsBefore = fake.requests.count
            #expect(requestsBefore == 2)  // the WhatsApp message and the refused SMS

            try await receive(p, "cod-fulfillment", "05-delivered.json")
            try await p.processor.processPending()
            let suppressed = try await p.store.messages(MessageQuery(state: .suppressed))
            #expect(suppressed.map(\.rule) == ["delivered"])
            #expect(suppressed.first?.recipient == salma)
            #expect(
                suppressed.first?.lastError
                    == "suppressed (provider-error): twilio 21610: Attempt to send to unsubscribed recipient")
            #expect(try await p.dispatcher.dispatchDue() == 0)
            #expect(fake.requests.count == requestsBefore)
            #expect(!logs.text.contains(salma))
            try await p.store.close()
        }
    }

    /// A message already queued when its number is suppressed: the dispatcher checks the list at
    /// each attempt, so it ends `suppressed` without a request and without using an attempt.
    @Test(arguments: StoreKind.allCases)
    func aQueuedMessageToANumberSuppressedMeanwhileIsNotSent(kind: StoreKind) async throws {
        try await withFake { fake, port in
            let p = try await pipeline(port: port, kind: kind)
            try await receive(p, "cod-fulfillment", "05-delivered.json")
            try await p.processor.processPending()
            #expect(try await p.store.messages(MessageQuery(state: .pending)).count == 1)
            try await p.store.addSuppression(
                Suppression(number: salma, reason: "asked by phone", source: .operator, createdAt: now))
            #expect(try await p.dispatcher.dispatchDue() == 1)
            let message = try #require(try await p.store.messages(MessageQuery()).first)
            #expect(message.state == .suppressed)
            #expect(message.lastError == "suppressed (operator): asked by phone")
            #expect(message.attempts == 0)
            #expect(fake.requests.isEmpty)
            try await p.store.close()
        }
    }

    /// An entry for one channel stops that channel only.
    @Test(arguments: StoreKind.allCases)
    func aChannelEntryLeavesTheOtherChannelsAlone(kind: StoreKind) async throws {
        try await withFake { fake, port in
            let p = try await pipeline(port: port, kind: kind)
            try await p.store.addSuppression(
                Suppression(
                    number: salma, scope: .channel("whatsapp"), reason: "no WhatsApp, please", source: .operator,
                    createdAt: now))
            try await receive(p, "cod-fulfillment", "03-out_for_delivery.json")
            try await p.processor.processPending()
            let messages = try await p.store.messages(MessageQuery())
            #expect(messages.first { $0.channel == "whatsapp" }?.state == .suppressed)
            #expect(
                messages.first { $0.channel == "whatsapp" }?.lastError
                    == "suppressed (operator, whatsapp): no WhatsApp, please")
            #expect(messages.first { $0.channel == "sms" }?.state == .pending)
            try await p.dispatcher.dispatchDue()
            #expect(fake.requests.map(\.path) == ["/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"])
            try await p.store.close()
        }
    }
}
