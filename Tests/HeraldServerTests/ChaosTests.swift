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
import NIOHTTPTypes
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fake Twilio and WhatsApp Cloud API that misbehaves for a while and then recovers: 500s,
/// 429s with `Retry-After`, answers slower than the client's timeout, connections reset by peer,
/// and an expired WhatsApp token. Like Twilio, it delivers a message once per
/// `I-Twilio-Idempotency-Token` and answers a repeat with the first answer; WhatsApp has no such
/// key, so every 200 there is a delivery.
final class ChaosProvider: Sendable {
    enum Fault: String, CaseIterable, Sendable {
        case serverError = "500", throttled = "429", slow, reset, expiredToken = "401"
    }

    struct Request: Sendable {
        var key: String
        var at: Date
        var answer: String
        var retryAfter: TimeInterval?
    }

    struct State {
        var chaos = true
        var random = SplitMix64(seed: 0x4845_5241_4c44)
        var requests: [Request] = []
        var deliveries: [String: Int] = [:]
        var sids: [String: String] = [:]
        var faults: [String: Int] = [:]
    }

    static let retryAfter: TimeInterval = 1_800
    static let slowness: Duration = .milliseconds(2_500)
    let state = Mutex(State())
    let clock: @Sendable () -> Date

    init(clock: @escaping @Sendable () -> Date) { self.clock = clock }

    func recover() { state.withLock { $0.chaos = false } }

    /// The fault for the next request, if any: 60 % of requests fail while the chaos lasts.
    private func drawFault(_ state: inout State, allowReset: Bool) -> Fault? {
        guard state.chaos, state.random.next() % 100 < 60 else { return nil }
        let faults = Fault.allCases.filter { allowReset || $0 != .reset }
        return faults[Int(state.random.next() % UInt64(faults.count))]
    }

    /// Decides at the first byte of a request whether the connection is reset instead.
    func resetsNextRequest() -> Bool {
        state.withLock { state in
            guard state.chaos, state.random.next() % 100 < 10 else { return false }
            state.faults["reset", default: 0] += 1
            return true
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("**") { request, _ -> Response in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let twilio = request.uri.path.hasSuffix("Messages.json")
            let key: String
            if twilio {
                key = request.headers[HTTPField.Name("I-Twilio-Idempotency-Token")!] ?? "missing"
            } else {
                let json = try JSONParser.parse(Array(body.utf8))
                key = "whatsapp:" + (json["to"]?.scalarText ?? "?")
            }
            let now = self.clock()
            let (fault, sid) = self.state.withLock { state -> (Fault?, String) in
                var fault = self.drawFault(&state, allowReset: false)
                // A repeated Twilio idempotency token gets the first answer, never a second message.
                if twilio, let sid = state.sids[key] { fault = nil; return (fault, sid) }
                if let fault { state.faults[fault.rawValue, default: 0] += 1 }
                if fault == nil || fault == .slow {
                    // Accepted (a slow answer arrives after the client gave up, but the message went out).
                    state.deliveries[key, default: 0] += 1
                    state.sids[key] = twilio ? "SM\(state.deliveries.count)" : "wamid.\(state.deliveries.count)"
                }
                let answer = fault?.rawValue ?? "ok"
                state.requests.append(Request(key: key, at: now, answer: answer, retryAfter: fault == .throttled ? Self.retryAfter : nil))
                return (fault, state.sids[key] ?? "")
            }
            func json(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
                var fields = headers
                fields[.contentType] = "application/json"
                return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            switch fault {
            case .serverError?:
                return twilio
                    ? json(.internalServerError, #"{"code":20500,"message":"Internal Server Error","status":500}"#)
                    : json(.internalServerError, #"{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1}}"#)
            case .throttled?:
                return json(.tooManyRequests, twilio ? #"{"code":20429,"message":"Too Many Requests","status":429}"#
                    : #"{"error":{"message":"Rate limit hit","type":"OAuthException","code":130429}}"#,
                    headers: [.retryAfter: "\(Int(Self.retryAfter))"])
            case .expiredToken?:
                return twilio
                    ? json(.unauthorized, #"{"code":20003,"message":"Authenticate","status":401}"#)
                    : json(.unauthorized, #"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190}}"#)
            case .slow?, nil:
                if fault == .slow { try await Task.sleep(for: Self.slowness) }
                return twilio
                    ? json(.created, #"{"sid":"\#(sid)","status":"queued"}"#)
                    : json(.ok, #"{"messaging_product":"whatsapp","messages":[{"id":"\#(sid)"}]}"#)
            case .reset?:
                preconditionFailure("resets are decided before routing")
            }
        }
        return router
    }

    /// Sits after HTTP decoding: when the provider decides so, the connection is closed with
    /// SO_LINGER 0 (a TCP reset) on the first part of a request, before any answer.
    final class ResetHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        let provider: ChaosProvider
        init(provider: ChaosProvider) { self.provider = provider }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data), provider.resetsNextRequest() {
                if let socket = context.channel as? any SocketOptionProvider {
                    socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in context.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
                return
            }
            context.fireChannelRead(data)
        }
    }
}

/// A small seeded generator, so a failing chaos run can be replayed.
struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Chaos: providers fail for a while, then recover")
struct ChaosTests {
    let dispatch: DispatchTests
    init() throws { dispatch = try DispatchTests() }

    /// Sample bodies for `count` distinct orders: the seed's order, renumbered, with its own phone.
    func events(_ file: String, count: Int, from first: Int) throws -> [WebhookRequest] {
        let input = try Fixtures.envelope("cod-fulfillment", file)
        let body = String(decoding: input.body, as: UTF8.self)
        return (first..<first + count).map { n in
            let text = body.replacingOccurrences(of: "ORD-000130", with: "ORD-\(700_000 + n)")
                .replacingOccurrences(of: "0661234567", with: "06612\(String(format: "%05d", n))")
            return WebhookRequest(provider: "cod-fulfillment", headers: input.headers, body: Array(text.utf8), receivedAt: dispatch.now)
        }
    }

    @Test func everyMessageIsSentOnceOrFailedForTheRightReasonWithinTheRetryPolicy() async throws {
        let start = dispatch.now
        let clock = Mutex(start)
        let now: @Sendable () -> Date = { clock.withLock { $0 } }
        let provider = ChaosProvider(clock: now)
        let app = Application(
            router: provider.router(),
            server: .http1(configuration: .init(additionalChannelHandlers: [ChaosProvider.ResetHandler(provider: provider)])),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = client.port!
            let rules = try dispatch.ruleSet(port: port)
            let store = try SQLiteStore(path: dispatch.path)
            let logger = dispatch.logs.logger()
            let processor = EventProcessor(ruleSet: rules, templates: dispatch.templates, store: store, logger: logger, clock: now)
            let policy = RetryPolicy()
            let dispatcher = Dispatcher(
                store: store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
                transport: URLSessionTransport(requestTimeout: 2), policy: policy, logger: logger, clock: now)

            // 40 delivered orders (one SMS each) and 10 out for delivery (WhatsApp, plus an SMS
            // that the courier will call): 60 messages.
            let profile = rules.provider(named: "cod-fulfillment")!
            for request in try events("05-delivered.json", count: 40, from: 0) + events("03-out_for_delivery.json", count: 10, from: 100) {
                _ = try await store.record(IncomingEvent(request: request, normalized: profile.normalize(request), profile: profile))
            }
            try await processor.processPending()
            let queued = try await store.messages(MessageQuery(limit: 1_000))
            #expect(queued.count == 60)

            // Six hours of chaos, then the provider recovers and the operator, having renewed the
            // WhatsApp token, runs `herald retry` on the held messages. The clock jumps to the
            // next due message after each round.
            var rounds = 0
            var released = 0
            while rounds < 2_000 {
                rounds += 1
                try await dispatcher.dispatchDue()
                let open = try await store.messages(MessageQuery(limit: 1_000)).filter { $0.state != .sent && $0.state != .failed }
                if now().timeIntervalSince(start) >= 6 * 3_600 {
                    provider.recover()
                    let held = open.filter { $0.state == .held }.map(\.id)
                    if !held.isEmpty { released += try await store.release(ids: held, at: now()).count; continue }
                }
                guard let next = open.compactMap(\.nextAttemptAt).min() else {
                    if open.isEmpty { break }
                    clock.withLock { $0 = $0.addingTimeInterval(600) }  // only held messages: time passes
                    continue
                }
                clock.withLock { $0 = max($0, next) }
            }

            let messages = try await store.messages(MessageQuery(limit: 1_000))
            let (requests, deliveries, faults) = provider.state.withLock { ($0.requests, $0.deliveries, $0.faults) }
            let sent = messages.filter { $0.state == .sent }
            let failed = messages.filter { $0.state == .failed }
            print("chaos: \(messages.count) messages, \(requests.count) requests, faults \(faults.sorted { $0.key < $1.key }), "
                + "\(sent.count) sent, \(failed.count) failed (\(Set(failed.compactMap(\.lastError)))), \(released) released from hold, "
                + "\(rounds) rounds over \(Int(now().timeIntervalSince(start) / 3_600)) h")

            // Every fault happened, and everything settled.
            #expect(Set(faults.keys) == Set(ChaosProvider.Fault.allCases.map(\.rawValue)))
            #expect(released > 0)
            #expect(sent.count + failed.count == 60)

            func key(_ message: OutboxMessage) -> String {
                message.channel == "whatsapp" ? "whatsapp:" + message.recipient : message.idempotencyKey
            }
            // Sent exactly once: one delivery at the provider per message, never two.
            for message in sent { #expect(deliveries[key(message)] == 1, "\(message.rule) #\(message.id)") }
            #expect(deliveries.values.allSatisfy { $0 == 1 })
            // Failed only where the outcome is unknown: WhatsApp has no idempotency key, so an
            // answer lost to a timeout or a reset is never resent (it may or may not have arrived).
            for message in failed {
                #expect(message.channel == "whatsapp")
                #expect(message.lastError?.hasPrefix("unknown outcome:") == true, "\(message.lastError ?? "")")
                #expect(deliveries[key(message), default: 0] <= 1)
            }
            // Retries within the policy: at most 8 attempts, and never sooner than the backoff
            // (120 s × 3ⁿ, −20 % jitter) or the provider's Retry-After allowed.
            for message in messages {
                #expect(message.attempts <= policy.maxAttempts)
                let tries = requests.filter { $0.key == key(message) }
                for (n, pair) in zip(tries, tries.dropFirst()).enumerated() where pair.0.answer != "401" {
                    let backoff = min(policy.maxDelay, policy.firstDelay * pow(policy.factor, Double(n))) * (1 - policy.jitter)
                    let allowed = max(backoff, pair.0.retryAfter ?? 0)
                    #expect(pair.1.at.timeIntervalSince(pair.0.at) >= allowed - 0.001, "\(message.rule) #\(message.id) try \(n + 2)")
                }
            }
            // The store agrees with the provider: the recorded ids are the ones it handed out.
            #expect(Set(sent.compactMap(\.providerMessageID)).count == sent.count)
            try await store.close()
        }
    }
}
