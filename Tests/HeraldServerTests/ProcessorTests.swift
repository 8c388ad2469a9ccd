import Foundation
import HeraldCore
import HeraldServer
@testable import HeraldStore
import HeraldTestSupport
import Logging
import Testing

@Suite("Event processor: stored events into the outbox")
struct ProcessorTests {
    let path = Fixtures.temporaryDatabasePath()
    let ruleSet: RuleSet
    let templates: TemplateStore
    let logs = LogRecorder()
    /// 12:00 UTC, outside quiet hours everywhere Herald's samples live.
    let now = Date(timeIntervalSince1970: 1_778_414_400)

    init() throws {
        var environment = Fixtures.environment.values
        for name in ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "WA_PHONE_NUMBER_ID", "WA_TOKEN"] {
            environment[name] = "set"
        }
        ruleSet = try Fixtures.shippedRuleSet(environment: Environment(environment))
        templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
    }

    func processor(_ store: any Store, ruleSet: RuleSet? = nil) -> EventProcessor {
        let fixed = now
        return EventProcessor(
            ruleSet: ruleSet ?? self.ruleSet, templates: templates, store: store, logger: logs.logger(), clock: { fixed })
    }

    /// Records a signed sample envelope as intake would.
    func receive(_ store: any Store, _ provider: String, _ file: String) async throws -> RecordOutcome {
        let input = try Fixtures.envelope(provider, file)
        let profile = ruleSet.provider(named: provider)!
        let request = WebhookRequest(provider: provider, headers: input.headers, body: input.body, receivedAt: input.receivedAt ?? now)
        #expect(profile.verification.verify(request, now: request.receivedAt) == .verified)
        return try await store.record(IncomingEvent(request: request, profile: profile))
    }

    @Test func anUnreadableAmountFailsOnlyTheMessagesPrintingIt() async throws {
        let store = try SQLiteStore(path: path)
        let input = try Fixtures.envelope("cod-fulfillment", "03-out_for_delivery.json")
        let text = String(decoding: input.body, as: UTF8.self)
        #expect(text.contains(#""amount":349"#))
        let body = Array(text.replacingOccurrences(of: #""amount":349"#, with: #""amount":"349abc""#).utf8)
        let profile = ruleSet.provider(named: "cod-fulfillment")!
        let request = WebhookRequest(provider: "cod-fulfillment", headers: input.headers, body: body, receivedAt: now)
        _ = try await store.record(IncomingEvent(request: request, profile: profile))
        let printing = try TemplateStore.compile(
            "Montant à payer à la livraison : {{order.amount}}", name: "courier_will_call", locale: "fr")
        let notPrinting = try TemplateStore.compile(
            "Commande {{order.reference}} en route", name: "out_for_delivery", locale: "fr")
        let templates = TemplateStore(templates: [
            "courier_will_call": ["fr": printing], "out_for_delivery": ["fr": notPrinting, "ar": notPrinting],
        ])
        let processor = EventProcessor(
            ruleSet: ruleSet, templates: templates, store: store, logger: logs.logger(), clock: { [now] in now })
        #expect(try await processor.processPending() == 1)
        let messages = try await store.messages(MessageQuery())
        let sms = try #require(messages.first { $0.rule == "courier-will-call" })
        #expect(sms.state == .failed)
        #expect(
            sms.lastError == "order.amount '349abc' is not a readable number: 'abc' is not a currency code or symbol")
        #expect(messages.first { $0.rule == "out-for-delivery" }?.state == .pending)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aWebhookBecomesExactlyTheRightMessages(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await receive(store, "cod-fulfillment", "03-out_for_delivery.json")
        #expect(try await processor(store).processPending() == 1)
        let messages = try await store.messages(MessageQuery())
        #expect(messages.map(\.rule).sorted() == ["courier-will-call", "out-for-delivery"])
        let sms = try #require(messages.first { $0.rule == "courier-will-call" })
        #expect(sms.channel == "sms")
        #expect(sms.recipient == "+212661234567")
        #expect(sms.locale == "fr")
        #expect(sms.state == .pending)
        #expect(sms.nextAttemptAt == now)
        #expect(sms.text == "Bonjour Salma, le livreur vous appellera avant de livrer votre commande ORD-000130. Merci de garder votre téléphone à portée de main.")
        #expect(sms.encoding == "GSM-7")
        #expect(sms.segments == 1)
        #expect(try await store.queueDepths().unprocessedEvents == 0)
        try await store.close()
    }

    @Test func redeliveriesReprocessingAndRestartsYieldNoSecondMessage() async throws {
        var store = try SQLiteStore(path: path)
        for _ in 0..<6 { _ = try await receive(store, "armada", "04-delivered.json") }
        try await processor(store).processPending()
        #expect(try await store.messages(MessageQuery()).count == 1)
        try await store.close()

        // A crash after the messages were written but before the event was marked processed:
        // simulated by marking it unprocessed again, then restarting with a fresh store.
        store = try SQLiteStore(path: path)
        try await store.markUnprocessed()
        #expect(try await store.queueDepths().unprocessedEvents == 1)
        try await processor(store).processPending()
        let messages = try await store.messages(MessageQuery())
        #expect(messages.count == 1)
        #expect(messages.first?.rule == "delivered")
        #expect(messages.first?.recipient == "+96550001234")
        #expect(messages.first?.locale == "ar")
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func staleEventsAndQuietHours(kind: StoreKind) async throws {
        let store = try await kind.open()
        for file in ["03-out_for_delivery.json", "05-delivered.json", "06-prepared-late.json"] {
            _ = try await receive(store, "cod-fulfillment", file)
        }
        let night = Date(timeIntervalSince1970: 1_778_450_400)  // 22:00 UTC, 23:00 in Casablanca
        let late = EventProcessor(ruleSet: ruleSet, templates: templates, store: store, logger: logs.logger(), clock: { night })
        #expect(try await late.processPending() == 3)
        let messages = try await store.messages(MessageQuery())
        #expect(messages.map(\.rule).sorted() == ["courier-will-call", "delivered", "out-for-delivery"])  // nothing for the stale one
        // Deferred to 08:30 in Casablanca (UTC+1) the next morning: 07:30 UTC.
        #expect(Set(messages.map(\.nextAttemptAt)) == [Date(timeIntervalSince1970: 1_778_484_600)])
        try await store.close()
    }

    /// Intake stores the keys only; what the event is (unusable, stale, its previous status) is
    /// found when it is processed, stored for `herald events`, and logged then, without the phone.
    @Test(arguments: StoreKind.allCases)
    func processingDecidesWhatIntakeLeftUndecided(kind: StoreKind) async throws {
        let store = try await kind.open()
        for file in ["03-out_for_delivery.json", "05-delivered.json", "06-prepared-late.json"] {
            _ = try await receive(store, "cod-fulfillment", file)
        }
        let profile = ruleSet.provider(named: "cod-fulfillment")!
        let body = Fixtures.codPayload(reference: "ORD-9", from: "prepared", to: "out_for_delivery")
        let missing = String(decoding: body, as: UTF8.self)
            .replacingOccurrences(of: "\"new_status\"", with: "\"state\"")
        let request = Fixtures.request(provider: "cod-fulfillment", body: Array(missing.utf8), receivedAt: now)
        _ = try await store.record(IncomingEvent(request: request, profile: profile))
        #expect(try await store.events(EventQuery(failedOnly: true)).isEmpty)
        #expect(try await store.events(EventQuery()).allSatisfy { $0.undecided && !$0.stale })

        #expect(try await processor(store).processPending() == 4)
        let events = try await store.events(EventQuery())  // newest first
        #expect(events.map(\.stale) == [false, true, false, false])
        #expect(events.allSatisfy { !$0.undecided })
        #expect(events[0].parseError == "missing order.status (order.new_status)")
        #expect(try await store.events(EventQuery(failedOnly: true)).map(\.id) == [events[0].id])
        #expect(events[2].previousStatus == "out_for_delivery")
        #expect(logs.text.contains("event cannot be used: no messages"))
        #expect(logs.text.contains("herald.parse_error=missing order.status"))
        #expect(logs.text.contains("stale event: older than its order's known state"))
        #expect(!logs.text.contains("661234567"))
        try await store.close()
    }

    @Test func unsetCredentialsHoldAndUnaddressableFail() async throws {
        let store = try SQLiteStore(path: path)
        _ = try await receive(store, "cod-fulfillment", "05-delivered.json")
        _ = try await receive(store, "wakilni", "02-order-confirmed.json")  // Wakilni sends no customer phone
        let noCredentials = try Fixtures.shippedRuleSet()  // Twilio and WhatsApp variables unset
        let alerts = ReconciliationTests.alerts("channel_held")
        try await processor(store, ruleSet: noCredentials).processPending()
        #expect(ReconciliationTests.alerts("channel_held") >= alerts + 1)  // a person must set them
        let held = try await store.messages(MessageQuery(state: .held))
        #expect(held.map(\.rule) == ["delivered"])
        #expect(held.first?.lastError == "channel 'sms' credentials not set: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM")
        let failed = try await store.messages(MessageQuery(state: .failed))
        #expect(failed.map(\.rule) == ["order-confirmed"])
        #expect(failed.first?.lastError == "recipient: the event has no customer.phone")
        try await store.close()
    }

    @Test func logsNeverCarryPhoneNumbers() async throws {
        let store = try SQLiteStore(path: path)
        _ = try await receive(store, "cod-fulfillment", "03-out_for_delivery.json")
        try await processor(store).processPending()
        #expect(logs.text.contains("event processed"))
        #expect(!logs.text.contains("661234567"))
        try await store.close()
    }

    /// Elebne's order.delivered names no customer: the message goes to the one order.new named.
    /// The stock alert's recipient, `${MERCHANT_PHONE}`, is unset here: held, not failed.
    @Test(arguments: StoreKind.allCases)
    func theElebneDeliveredMessageGoesToTheCustomerOfOrderNew(kind: StoreKind) async throws {
        let store = try await kind.open()
        for file in try Fixtures.sequence("elebne") { _ = try await receive(store, "elebne", file) }
        try await processor(store).processPending()
        let messages = try await store.messages(MessageQuery())
        let delivered = try #require(messages.first { $0.rule == "delivered" })
        #expect(delivered.recipient == "+22242345678")
        #expect(delivered.state == .pending)
        #expect(delivered.text.contains("Aminata"))
        let stock = try #require(messages.first { $0.rule == "stock-alert" })
        #expect(stock.state == .held)
        #expect(stock.recipient == "${MERCHANT_PHONE}")
        #expect(stock.lastError == "recipient ${MERCHANT_PHONE} not set")
        try await store.close()
    }

    /// The processor plans from the order as it was when the event arrived: a later event that
    /// gives another phone, stored before the processor runs, does not readdress an earlier message.
    @Test(arguments: StoreKind.allCases)
    func theProcessorSeesTheOrderAsOfItsEvent(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await receive(store, "elebne", "01-order-new.json")
        _ = try await receive(store, "elebne", "03-order-delivered.json")
        let profile = ruleSet.provider(named: "elebne")!
        let json =
            #"{"event":"order.refunded","timestamp":"2026-04-04T16:30:00.000Z","sandbox":false,"data":{"#
            + #""referenceNumber":"EL-3K9P2QW7ZT4M8N1","status":"REFUNDED","customerPhone":"+22243000000"}}"#
        let body = Array(json.utf8)
        let request = Fixtures.request(provider: "elebne", body: body, receivedAt: now)
        _ = try await store.record(IncomingEvent(request: request, profile: profile))
        try await processor(store).processPending()
        let messages = try await store.messages(MessageQuery())
        #expect(messages.first { $0.rule == "delivered" }?.recipient == "+22242345678")
        #expect(messages.first { $0.rule == "refund-processed" }?.recipient == "+22243000000")
        try await store.close()
    }

    /// Dry-run and the live store give the same recipients for the Elebne sequence.
    @Test func dryRunAndTheLiveStoreAgreeOnRecipients() async throws {
        let store = try SQLiteStore(path: path)
        let session = DryRunSession(ruleSet: ruleSet, templates: templates, now: now)
        var planned: [String] = []
        for file in try Fixtures.sequence("elebne") {
            _ = try await receive(store, "elebne", file)
            let result = session.process(try Fixtures.envelope("elebne", file))
            for message in result.messages where message.duplicateOf == nil {
                let m = message.planned.message
                planned.append("\(m.rule) \(m.to ?? m.unsetTo ?? "nobody")")
            }
        }
        try await processor(store).processPending()
        let stored = try await store.messages(MessageQuery()).map { "\($0.rule) \($0.recipient)" }
        #expect(planned.sorted() == stored.sorted())
        #expect(planned.contains("delivered +22242345678"))
        try await store.close()
    }
}
