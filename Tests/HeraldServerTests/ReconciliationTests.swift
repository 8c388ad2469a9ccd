import Foundation
import HeraldCore
import HeraldDispatch
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Synchronization
import Testing

/// The dispatcher with a scripted transport and an injected clock: what happens to a Twilio SMS
/// whose answer is lost, to a transient failure, and to errors only a person can fix.
@Suite("Unknown outcomes, retry timing and operator alerts")
struct ReconciliationTests {
    let dispatch: DispatchTests
    let clock: TestClock
    init() throws {
        dispatch = try DispatchTests()
        clock = TestClock(dispatch.now)
    }

    var start: Date { dispatch.now }

    /// A store holding the delivered SMS of ORD-000130, and a dispatcher sending through `transport`.
    func pipeline(_ transport: ScriptedTransport) async throws -> (SQLiteStore, Dispatcher, OutboxMessage) {
        let rules = try dispatch.ruleSet(port: 9)
        let store = try SQLiteStore(path: dispatch.path)
        let logger = dispatch.logs.logger()
        let now: @Sendable () -> Date = { [clock] in clock.withLock { $0 } }
        let processor = EventProcessor(
            ruleSet: rules, templates: dispatch.templates, store: store, logger: logger, clock: now)
        try await dispatch.receive(store, "cod-fulfillment", "05-delivered.json", ruleSet: rules)
        try await processor.processPending()
        let dispatcher = Dispatcher(
            store: store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
            transport: transport,
            logger: logger, clock: now, random: { 0.5 })
        let message = try #require(try await store.messages(MessageQuery()).first)
        return (store, dispatcher, message)
    }

    func at(_ seconds: TimeInterval) { clock.withLock { $0 = start.addingTimeInterval(seconds) } }

    func page(_ entries: [(sid: String, body: String, offset: TimeInterval)], next: String? = nil)
        -> ScriptedTransport.Step
    {
        let items = entries.map { entry in
            #"{"sid":"\#(entry.sid)","to":"+212661234567","from":"+212500000000","body":"#
                + JSONValue.string(entry.body).serialized()
                + #","date_created":"\#(TwilioDates.rfc2822(start.addingTimeInterval(entry.offset)))","status":"queued"}"#
        }
        let next = next.map { "\"\($0)\"" } ?? "null"
        return ScriptedTransport.json(200, #"{"messages":[\#(items.joined(separator: ","))],"next_page_uri":\#(next)}"#)
    }

    func only(_ store: SQLiteStore) async throws -> OutboxMessage {
        try #require(try await store.messages(MessageQuery()).first)
    }

    @Test func aLostAnswerIsLookedUpAfterTheSettlingDelayAndFoundOnTheSecondPage() async throws {
        let transport = ScriptedTransport([.error(.unknownOutcome("networkConnectionLost"))])
        let (store, dispatcher, queued) = try await pipeline(transport)
        try await dispatcher.dispatchDue()
        var message = try await only(store)
        #expect(message.state == .unknown)
        #expect(message.nextAttemptAt == start.addingTimeInterval(10))
        #expect(message.lastError == "unknown outcome: no answer: networkConnectionLost")
        // Bulk retry never releases it.
        #expect(try await store.release(ids: [message.id], at: start).isEmpty)

        at(9.9)
        #expect(try await dispatcher.dispatchDue() == 0)
        #expect(transport.requests.count == 1)

        transport.then(
            page(
                [("SMlater", "Votre commande ORD-000131 est en route", 8)],
                next: "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json?Page=1"),
            page([("SMfound", queued.text, 0), ("SMold", queued.text, -86_400)], next: "/unread"))
        at(10)
        #expect(try await dispatcher.dispatchDue() == 1)
        message = try await only(store)
        #expect(message.state == .sent)
        #expect(message.providerMessageID == "SMfound")
        let requests = transport.requests
        #expect(requests.map(\.method) == ["POST", "GET", "GET"])
        #expect(requests[1].url.query == "To=%2B212661234567&From=%2B212500000000&PageSize=50")
        #expect(
            requests[2].url.absoluteString
                == "http://127.0.0.1:9/2010-04-01/Accounts/AC0123456789abcdef/Messages.json?Page=1")
        try await store.close()
    }

    @Test func aMessageTwilioDoesNotHaveIsSentAgain() async throws {
        let transport = ScriptedTransport([.error(.unknownOutcome("timedOut"))])
        let (store, dispatcher, _) = try await pipeline(transport)
        try await dispatcher.dispatchDue()
        // Only older messages to the customer: not there.
        transport.then(
            page([("SMyesterday", "Votre commande ORD-000130 est en route", -86_400)], next: "/older"),
            ScriptedTransport.json(201, #"{"sid":"SMresent","status":"queued"}"#))
        at(10)
        try await dispatcher.dispatchDue()
        #expect(try await only(store).state == .pending)
        try await dispatcher.dispatchDue()
        let message = try await only(store)
        #expect(message.state == .sent)
        #expect(message.providerMessageID == "SMresent")
        #expect(transport.requests.map(\.method) == ["POST", "GET", "POST"])
        try await store.close()
    }

    @Test func aFailedLookupIsTriedAgainLaterNeverABlindResend() async throws {
        let transport = ScriptedTransport([
            .error(.unknownOutcome("timedOut")),
            ScriptedTransport.json(503, #"{"code":20503,"message":"Service unavailable"}"#),
        ])
        let (store, dispatcher, _) = try await pipeline(transport)
        try await dispatcher.dispatchDue()
        at(10)
        try await dispatcher.dispatchDue()
        var message = try await only(store)
        #expect(message.state == .unknown)
        #expect(message.nextAttemptAt == start.addingTimeInterval(70))
        #expect(transport.requests.map(\.method) == ["POST", "GET"])
        // `herald retry --force ID`: the operator decides to send it anyway.
        #expect(
            try await store.release(ids: [message.id], at: start.addingTimeInterval(11), force: true) == [message.id])
        message = try await only(store)
        #expect(message.state == .pending)
        try await store.close()
    }

    @Test func aDispatcherThatDiedMidSendLeavesALookupNotAResend() async throws {
        let transport = ScriptedTransport()
        let (store, dispatcher, queued) = try await pipeline(transport)
        _ = try await store.claimDue(now: start, limit: 10, lease: 60)  // claimed, then the process died
        at(61)
        try await dispatcher.dispatchDue()
        #expect(transport.requests.isEmpty)
        #expect(try await only(store).state == .unknown)
        transport.then(page([("SMsent", queued.text, 0.5)]))
        at(71)
        try await dispatcher.dispatchDue()
        #expect(try await only(store).providerMessageID == "SMsent")
        #expect(transport.requests.map(\.method) == ["GET"])
        try await store.close()
    }

    @Test func a503FollowedBySuccessDeliversWithinFifteenSeconds() async throws {
        let transport = ScriptedTransport([
            ScriptedTransport.json(503, #"{"code":20503,"message":"Service Unavailable","status":503}"#),
            ScriptedTransport.json(201, #"{"sid":"SM2","status":"queued"}"#),
        ])
        let (store, dispatcher, _) = try await pipeline(transport)
        try await dispatcher.dispatchDue()
        let due = try #require(try await only(store).nextAttemptAt)
        #expect(due.timeIntervalSince(start) <= 10)
        clock.withLock { $0 = due }
        try await dispatcher.dispatchDue()
        let message = try await only(store)
        #expect(message.state == .sent)
        #expect(clock.withLock { $0 }.timeIntervalSince(start) < 15)
        try await store.close()
    }

    static func alerts(_ reason: String) -> Int {
        _ = MetricsTests.bootstrapped
        let prefix = "herald_operator_alerts_total{reason=\"\(reason)\"} "
        let line = HeraldMetrics.registry.emitToString().split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
    }

    @Test(
        "Errors that need a person: a critical log line and herald_operator_alerts_total{reason}",
        arguments: [
            (
                400,
                #"{"code":21408,"message":"Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +212661234567.","more_info":"https://www.twilio.com/docs/errors/21408","status":400}"#,
                "geo_permission", OutboxMessage.State.failed
            ),
            (
                401,
                #"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#,
                "credentials_rejected", OutboxMessage.State.held
            ),
        ])
    func operatorAlerts(status: Int, body: String, reason: String, state: OutboxMessage.State) async throws {
        let before = Self.alerts(reason)
        let transport = ScriptedTransport([ScriptedTransport.json(status, body)])
        let (store, dispatcher, _) = try await pipeline(transport)
        try await dispatcher.dispatchDue()
        let message = try await only(store)
        #expect(message.state == state)
        #expect(Self.alerts(reason) >= before + 1)  // other suites may count theirs meanwhile
        let critical = dispatch.logs.text.split(separator: "\n").filter { $0.hasPrefix("critical ") }
        #expect(critical.contains { $0.contains("herald.alert=\(reason)") && !$0.contains("+212661234567") })
        try await store.close()
    }

    @Test func aChannelThatCannotSendHoldsItsMessagesAndAlerts() async throws {
        let before = Self.alerts("channel_held")
        let transport = ScriptedTransport()
        var (store, dispatcher, _) = try await pipeline(transport)
        dispatcher.channels = [:]
        try await dispatcher.dispatchDue()
        #expect(try await only(store).state == .held)
        #expect(Self.alerts("channel_held") >= before + 1)
        #expect(transport.requests.isEmpty)
        try await store.close()
    }
}

final class TestClock: Sendable {
    let value: Mutex<Date>
    init(_ date: Date) { value = Mutex(date) }
    func withLock<T>(_ body: (inout Date) -> T) -> T { value.withLock { body(&$0) } }
}
