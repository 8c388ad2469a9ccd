import Foundation
import HTTPTypes
import HeraldCore
import HeraldDispatch
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// Runs `body` with a fresh fake provider listening on a random loopback port (real HTTP).
func withFake(_ body: @escaping @Sendable (FakeProvider, Int) async throws -> Void) async throws {
    let fake = FakeProvider()
    let app = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { client in try await body(fake, client.port!) }
}

/// An in-process fake of Twilio and the WhatsApp Cloud API: records every request and answers
/// with whatever the test queued (201/200 success by default).
final class FakeProvider: Sendable {
    struct Recorded: Sendable {
        var path: String
        var headers: [String: String]
        var body: String
    }

    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var body: String
        var headers: [String: String] = [:]
        /// How long the fake waits after recording the request before it answers (a lost answer:
        /// the provider has the message, the client times out first).
        var delay: Duration? = nil
    }

    private let state = Mutex<(requests: [Recorded], answers: [String: [Answer]])>(([], [:]))

    var requests: [Recorded] { state.withLock { $0.requests } }

    /// Queues answers for paths containing `pathPart` ("Messages.json" or "/messages").
    func answer(_ pathPart: String, _ answers: Answer...) {
        state.withLock { $0.answers[pathPart, default: []] += answers }
    }

    /// Orders the fake merchant API knows, for enrichment: id → JSON.
    let orders = Mutex<[String: String]>([:])
    let orderLookups = Mutex(0)

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("slow/orders/:id") { _, _ -> Response in
            self.orderLookups.withLock { $0 += 1 }
            try await Task.sleep(for: .seconds(3))
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        router.get("api/orders/:id") { _, context -> Response in
            self.orderLookups.withLock { $0 += 1 }
            let id = context.parameters.get("id") ?? ""
            guard let json = self.orders.withLock({ $0[id] }) else {
                return Response(
                    status: .notFound, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"not found"}"#)))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        router.post("**") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let path = request.uri.path
            let answer: Answer = self.state.withLock { state in
                state.requests.append(Recorded(path: path, headers: headers, body: String(buffer: body)))
                for key in state.answers.keys where path.contains(key) {
                    if var queue = state.answers[key], !queue.isEmpty {
                        let first = queue.removeFirst()
                        state.answers[key] = queue
                        return first
                    }
                }
                return path.contains("Messages.json")
                    ? Answer(status: .created, body: #"{"sid":"SM\#(state.requests.count)","status":"queued"}"#)
                    : Answer(
                        status: .ok,
                        body: #"{"messaging_product":"whatsapp","messages":[{"id":"wamid.\#(state.requests.count)"}]}"#)
            }
            if let delay = answer.delay { try await Task.sleep(for: delay) }
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            for (name, value) in answer.headers { fields[HTTPField.Name(name)!] = value }
            return Response(
                status: answer.status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        return router
    }
}

@Suite("Dispatch through fake providers over real HTTP")
struct DispatchTests {
    let path = Fixtures.temporaryDatabasePath()
    let templates: TemplateStore
    let logs = LogRecorder()
    let now = Date(timeIntervalSince1970: 1_778_414_400)  // 12:00 UTC: no quiet hours

    init() throws {
        templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
    }

    func ruleSet(port: Int, also extra: [String: String] = [:]) throws -> RuleSet {
        var environment = Fixtures.environment.values
        environment.merge([
            "TWILIO_ACCOUNT_SID": "AC0123456789abcdef", "TWILIO_AUTH_TOKEN": "twilio-token-xyz",
            "TWILIO_FROM": "+212500000000",
            "WA_PHONE_NUMBER_ID": "1055", "WA_TOKEN": "wa-token-abc",
        ]) { $1 }
        environment.merge(extra) { $1 }
        let text = try Fixtures.shippedRulesText(fakeProviderPort: port)
        return try RuleSet.parse(yaml: text, file: "rules.yaml", environment: Environment(environment))
    }

    struct Pipeline {
        let store: SQLiteStore
        let processor: EventProcessor
        let dispatcher: Dispatcher
    }

    func pipeline(port: Int, clock: @escaping @Sendable () -> Date) throws -> Pipeline {
        let rules = try ruleSet(port: port)
        let store = try SQLiteStore(path: path)
        let logger = logs.logger()
        return Pipeline(
            store: store,
            processor: EventProcessor(
                ruleSet: rules, templates: templates, store: store, logger: logger, clock: clock,
                enricher: Enricher(transport: SharedTransport.loopback(requestTimeout: 5), pause: .milliseconds(10))),
            dispatcher: Dispatcher(
                store: store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
                transport: SharedTransport.loopback(requestTimeout: 5), logger: logger, clock: clock, random: { 0.5 }))
    }

    func receive(_ store: SQLiteStore, _ provider: String, _ file: String, ruleSet: RuleSet) async throws {
        let input = try Fixtures.envelope(provider, file)
        let profile = ruleSet.provider(named: provider)!
        let request = WebhookRequest(
            provider: provider, headers: input.headers, body: input.body, receivedAt: input.receivedAt ?? now)
        _ = try await store.record(
            IncomingEvent(request: request, profile: profile))
    }

    @Test func aSeedWebhookBecomesOneTwilioRequest() async throws {
        let fixedNow = now
        try await withFake { fake, port in
            let p = try pipeline(port: port, clock: { fixedNow })
            for _ in 0..<6 {
                try await receive(p.store, "cod-fulfillment", "05-delivered.json", ruleSet: p.processor.ruleSet)
            }
            try await p.processor.processPending()
            #expect(try await p.dispatcher.dispatchDue() == 1)
            #expect(try await p.dispatcher.dispatchDue() == 0)
            let requests = fake.requests
            #expect(requests.count == 1)
            let request = try #require(requests.first)
            #expect(request.path == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json")
            #expect(
                request.headers["authorization"] == "Basic "
                    + Data("AC0123456789abcdef:twilio-token-xyz".utf8).base64EncodedString())
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(request.headers["i-twilio-idempotency-token"] == nil)  // Twilio has no such header for sends
            let form = Dictionary(
                uniqueKeysWithValues: request.body.split(separator: "&").map { pair in
                    let parts = pair.split(separator: "=", maxSplits: 1).map {
                        String($0).removingPercentEncoding ?? ""
                    }
                    return (parts[0], parts.count > 1 ? parts[1] : "")
                })
            #expect(form["To"] == "+212661234567")
            #expect(form["From"] == "+212500000000")
            #expect(
                form["Body"]
                    == "Bonjour Salma, votre commande ORD-000130 a bien été livrée. Merci de votre confiance, au plaisir de vous revoir !"
            )
            let sent = try await p.store.messages(MessageQuery(state: .sent))
            #expect(sent.map(\.providerMessageID) == ["SM1"])
            #expect(!logs.text.contains("twilio-token-xyz"))
            #expect(!logs.text.contains("+212661234567"))
            try await p.store.close()
        }
    }

    @Test func whatsappSendsTheApprovedTemplateAndFallsBackToSMS() async throws {
        let fixedNow = now
        try await withFake { fake, port in
            let p = try pipeline(port: port, clock: { fixedNow })
            try await receive(p.store, "cod-fulfillment", "03-out_for_delivery.json", ruleSet: p.processor.ruleSet)
            try await p.processor.processPending()
            // The WhatsApp message: 24 h window closed, so Meta answers 131047 → SMS fallback.
            fake.answer(
                "/messages",
                .init(
                    status: .badRequest,
                    body:
                        #"{"error":{"message":"Re-engagement message","type":"OAuthException","code":131047,"error_data":{"details":"More than 24 hours have passed"}}}"#
                ))
            try await p.dispatcher.dispatchDue()
            try await p.dispatcher.dispatchDue()
            let whatsapp = try #require(fake.requests.first { $0.path == "/v23.0/1055/messages" })
            #expect(whatsapp.headers["authorization"] == "Bearer wa-token-abc")
            let json = try JSONParser.parse(Array(whatsapp.body.utf8))
            #expect(json["messaging_product"] == .string("whatsapp"))
            #expect(json["to"] == .string("+212661234567"))
            #expect(json["type"] == .string("template"))
            #expect(json["template"]?["name"] == .string("herald_out_for_delivery"))
            #expect(json["template"]?["language"]?["code"] == .string("fr"))
            #expect(
                json["template"]?["components"]?.arrayValue?.first?["parameters"]?.arrayValue?.compactMap {
                    $0["text"]?.scalarText
                } == ["Salma", "ORD-000130", "F-CSB7TKK8FNZ"])
            // Both messages finally went out by SMS: the courier one, and the WhatsApp one through its fallback.
            let twilio = fake.requests.filter { $0.path.hasSuffix("Messages.json") }
            #expect(twilio.count == 2)
            let messages = try await p.store.messages(MessageQuery())
            #expect(messages.allSatisfy { $0.state == .sent })
            #expect(messages.first { $0.rule == "out-for-delivery" }?.channel == "sms")
            try await p.store.close()
        }
    }

    @Test func errorClassesLeadToTheRightStates() async throws {
        let clockValue = Mutex(now)
        let start = now
        try await withFake { fake, port in
            let p = try pipeline(port: port, clock: { clockValue.withLock { $0 } })
            try await receive(p.store, "cod-fulfillment", "05-delivered.json", ruleSet: p.processor.ruleSet)
            try await p.processor.processPending()
            // 500, then 429 with Retry-After, then success.
            fake.answer(
                "Messages.json",
                .init(status: .internalServerError, body: #"{"code":20500,"message":"Internal error","status":500}"#),
                .init(
                    status: .tooManyRequests, body: #"{"code":20429,"message":"Too Many Requests","status":429}"#,
                    headers: ["Retry-After": "900"]))
            try await p.dispatcher.dispatchDue()
            var message = try #require(try await p.store.messages(MessageQuery()).first)
            #expect(message.state == .pending)
            #expect(message.nextAttemptAt == start.addingTimeInterval(5))  // first delay, jitter centred
            #expect(message.lastError == "twilio 20500: Internal error")
            #expect(try await p.dispatcher.dispatchDue() == 0)  // not due yet
            clockValue.withLock { $0 = start.addingTimeInterval(6) }
            try await p.dispatcher.dispatchDue()
            message = try #require(try await p.store.messages(MessageQuery()).first)
            #expect(message.nextAttemptAt == start.addingTimeInterval(6 + 900))  // Retry-After beats the 30 s backoff
            clockValue.withLock { $0 = start.addingTimeInterval(6 + 901) }
            try await p.dispatcher.dispatchDue()
            message = try #require(try await p.store.messages(MessageQuery()).first)
            #expect(message.state == .sent)
            #expect(message.attempts == 3)
            #expect(fake.requests.count == 3)
            try await p.store.close()
        }
    }

    @Test func permanentErrorsFailAndExpiredTokensHoldUntilRetry() async throws {
        let fixedNow = now
        try await withFake { fake, port in
            let p = try pipeline(port: port, clock: { fixedNow })
            try await receive(p.store, "cod-fulfillment", "05-delivered.json", ruleSet: p.processor.ruleSet)
            try await receive(p.store, "storefront", "01-paid.json", ruleSet: p.processor.ruleSet)
            try await p.processor.processPending()
            fake.answer(
                "Messages.json",
                .init(status: .badRequest, body: #"{"code":21211,"message":"Invalid 'To' Phone Number","status":400}"#),
                .init(status: .unauthorized, body: #"{"code":20003,"message":"Authenticate","status":401}"#))
            try await p.dispatcher.dispatchDue()
            let failed = try await p.store.messages(MessageQuery(state: .failed))
            let held = try await p.store.messages(MessageQuery(state: .held))
            #expect(failed.count == 1)
            #expect(failed.first?.lastError == "twilio 21211: Invalid 'To' Phone Number")
            #expect(held.count == 1)
            #expect(held.first?.lastError == "twilio 20003: Authenticate")
            #expect(logs.text.contains("channel credentials rejected"))
            // The operator fixes the token and releases the held message: it goes out, once.
            #expect(try await p.store.release(ids: [held[0].id, failed[0].id], at: fixedNow).count == 2)
            try await p.dispatcher.dispatchDue()
            #expect(try await p.store.messages(MessageQuery(state: .sent)).count == 2)
            #expect(fake.requests.count == 4)
            try await p.store.close()
        }
    }

    /// `send: { to: "${MERCHANT_PHONE}" }` with the variable unset: held, not failed; released
    /// while still unset it is held again; once `herald serve` runs with it set, `herald retry`
    /// sends it to that number, once.
    @Test func aMessageHeldForItsUnsetRecipientGoesOutOnceTheVariableIsSet() async throws {
        let fixedNow = now
        try await withFake { fake, port in
            let p = try pipeline(port: port, clock: { fixedNow })
            try await receive(p.store, "elebne", "05-stock-out.json", ruleSet: p.processor.ruleSet)
            try await p.processor.processPending()
            let held = try await p.store.messages(MessageQuery(state: .held))
            #expect(held.map(\.rule) == ["stock-alert"])
            #expect(held.first?.recipient == "${MERCHANT_PHONE}")
            #expect(held.first?.lastError == "recipient ${MERCHANT_PHONE} not set")

            #expect(try await p.store.release(ids: held.map(\.id), at: fixedNow).count == 1)
            try await p.dispatcher.dispatchDue()
            #expect(try await p.store.messages(MessageQuery(state: .held)).map(\.id) == held.map(\.id))
            #expect(fake.requests.isEmpty)

            let rules = try ruleSet(port: port, also: ["MERCHANT_PHONE": "+22236000000"])
            let logger = logs.logger()
            let restarted = Dispatcher(
                store: p.store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
                transport: SharedTransport.loopback(requestTimeout: 5), logger: logger, clock: { fixedNow },
                random: { 0.5 })
            #expect(try await p.store.release(ids: held.map(\.id), at: fixedNow).count == 1)
            try await restarted.dispatchDue()
            let sent = try await p.store.messages(MessageQuery(state: .sent))
            #expect(sent.map(\.recipient) == ["+22236000000"])
            #expect(sent.first?.idempotencyKey == held.first?.idempotencyKey)
            #expect(fake.requests.count == 1)
            #expect(fake.requests.first?.body.contains("To=%2B22236000000") == true)
            try await p.store.close()
        }
    }

    @Test func anInterruptedWhatsAppSendIsNeverRepeated() async throws {
        let clockValue = Mutex(now)
        let start = now
        try await withFake { fake, port in
            let p = try pipeline(port: port, clock: { clockValue.withLock { $0 } })
            try await receive(p.store, "armada", "02-en_route.json", ruleSet: p.processor.ruleSet)
            try await p.processor.processPending()
            // A dispatcher claims the message and dies before recording anything.
            let claimed = try await p.store.claimDue(now: start, limit: 10, lease: 60)
            #expect(claimed.count == 1)
            clockValue.withLock { $0 = start.addingTimeInterval(61) }  // the lease expires
            try await p.dispatcher.dispatchDue()
            let message = try #require(try await p.store.messages(MessageQuery()).first)
            // Unknown until a receipt says: never resent, never released by a bulk retry.
            #expect(message.state == .unknown)
            #expect(message.nextAttemptAt == nil)
            #expect(message.lastError == "unknown outcome: the previous attempt was interrupted")
            #expect(try await p.store.release(ids: [message.id], at: start).isEmpty)
            #expect(fake.requests.isEmpty)
            try await p.store.close()
        }
    }

    @Test func wakilniOrdersAreEnrichedFromTheMerchantsAPI() async throws {
        let fixedNow = now
        try await withFake { fake, port in
            fake.orders.withLock { $0["48214"] = #"{"id":48214,"phone":"03 123 456","name":"Rania Haddad"}"# }
            let p = try pipeline(port: port, clock: { fixedNow })
            #expect(
                p.processor.ruleSet.provider(named: "wakilni")?.enrichment?.fields[.customerPhone] == FieldPath("phone")
            )
            try await receive(p.store, "wakilni", "02-order-confirmed.json", ruleSet: p.processor.ruleSet)
            try await receive(p.store, "wakilni", "04-order-completed.json", ruleSet: p.processor.ruleSet)
            try await p.processor.processPending()
            let messages = try await p.store.messages(MessageQuery()).sorted { $0.id < $1.id }
            #expect(messages.map(\.rule) == ["order-confirmed", "delivered"])
            #expect(messages.allSatisfy { $0.recipient == "+9613123456" && $0.state == .pending && $0.locale == "ar" })
            #expect(messages.first?.text.contains("\u{2068}Rania\u{2069}") == true)
            #expect(fake.orderLookups.withLock { $0 } == 1)  // the second event of the order used the cache
            try await p.store.close()
        }
    }

    @Test func anOrderTheMerchantDoesNotKnowFailsWithTheReason() async throws {
        let fixedNow = now
        try await withFake { _, port in
            let p = try pipeline(port: port, clock: { fixedNow })
            try await receive(p.store, "wakilni", "02-order-confirmed.json", ruleSet: p.processor.ruleSet)
            try await p.processor.processPending()
            let message = try #require(try await p.store.messages(MessageQuery()).first)
            #expect(message.state == .failed)
            #expect(
                message.lastError
                    == "recipient: the event has no customer.phone; enrichment: the order is not found at the merchant's API"
            )
            try await p.store.close()
        }
    }

    @Test func aMerchantAPIThatTimesOutIsRetriedThenReported() async throws {
        let fixedNow = now
        try await withFake { fake, port in
            var rules = try ruleSet(port: port)
            var wakilni = try #require(rules.provider(named: "wakilni"))
            wakilni.enrichment?.url = "http://127.0.0.1:\(port)/slow/orders/{{order.reference}}"
            rules.providers = rules.providers.map { $0.name == "wakilni" ? wakilni : $0 }
            let store = try SQLiteStore(path: path)
            let processor = EventProcessor(
                ruleSet: rules, templates: templates, store: store, logger: logs.logger(), clock: { fixedNow },
                enricher: Enricher(
                    transport: SharedTransport.loopback(requestTimeout: 0.5), attempts: 2, pause: .milliseconds(10)))
            try await receive(store, "wakilni", "02-order-confirmed.json", ruleSet: rules)
            try await processor.processPending()
            let message = try #require(try await store.messages(MessageQuery()).first)
            #expect(message.state == .failed)
            #expect(message.lastError?.contains("enrichment failed") == true)
            #expect(fake.orderLookups.withLock { $0 } >= 1)
            #expect(logs.text.contains("enrichment failed"))
            try await store.close()
        }
    }

    /// A transport twin that records calls and never answers, as a hung API would.
    final class HangingTransport: HTTPTransport {
        let calls = Mutex(0)
        func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
            calls.withLock { $0 += 1 }
            throw .unknownOutcome("timedOut")
        }
    }

    @Test func enrichmentRetriesItsAttemptsThenGivesUp() async {
        let transport = HangingTransport()
        let enricher = Enricher(transport: transport, attempts: 3, pause: .milliseconds(1))
        var event = CanonicalEvent(provider: "wakilni", receivedAt: now)
        event.order.reference = "48214"
        let outcome = await enricher.fetch(
            for: event,
            with: Enrichment(
                url: "http://127.0.0.1:9/api/orders/{{order.reference}}", fields: [.customerPhone: FieldPath("phone")]))
        #expect(outcome == .failed("enrichment failed: unknownOutcome(\"timedOut\")"))
        #expect(transport.calls.withLock { $0 } == 3)
    }
}
