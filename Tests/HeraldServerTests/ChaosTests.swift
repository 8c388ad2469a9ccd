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
/// answers lost (the message is created, then the connection drops without an answer), and an
/// expired WhatsApp token. Like the real ones, neither deduplicates: every accepted request is a
/// message at the provider. Twilio's `ListMessage` (GET …/Messages.json?To=…&From=…) answers
/// from the messages it holds, newest first, in pages, as Twilio does.
final class ChaosProvider: Sendable {
    enum Fault: String, CaseIterable, Sendable {
        case serverError = "500", throttled = "429", slow, reset, lostAnswer = "lost", expiredToken = "401"
    }

    struct Request: Sendable {
        var key: String
        var at: Date
        var answer: String
        var retryAfter: TimeInterval?
        /// A `ListMessage` lookup, not a send.
        var lookup = false
    }

    /// A message Twilio holds, as `ListMessage` lists it.
    struct Held: Sendable {
        var sid: String
        var to: String
        var from: String
        var body: String
        var created: Date
    }

    struct State {
        var chaos = true
        var random = SplitMix64(seed: 0x4845_5241_4c44)
        var requests: [Request] = []
        var deliveries: [String: Int] = [:]
        var twilioMessages: [Held] = []
        var faults: [String: Int] = [:]
        var sids = 0
    }

    static let retryAfter: TimeInterval = 1_800
    static let slowness: Duration = .milliseconds(2_500)
    /// On a response head, tells `ResetHandler` to drop the connection instead of answering.
    static let dropHeader = HTTPField.Name("X-Chaos-Drop")!
    /// Small pages, so lookups walk `next_page_uri`.
    static let pageSize = 1
    let state = Mutex(State())
    let clock: @Sendable () -> Date

    init(clock: @escaping @Sendable () -> Date) { self.clock = clock }

    func recover() { state.withLock { $0.chaos = false } }

    /// The fault for the next request, if any: 60 % of requests fail while the chaos lasts.
    private func drawFault(_ state: inout State, from faults: [Fault]) -> Fault? {
        guard state.chaos, state.random.next() % 100 < 60 else { return nil }
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

    static func json(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("2010-04-01/Accounts/:sid/Messages.json") { request, context -> Response in
            let query = request.uri.queryParameters
            let to = query["To"].map(String.init) ?? ""
            let from = query["From"].map(String.init) ?? ""
            let size = query["PageSize"].flatMap { Int(String($0)) }.map { min($0, Self.pageSize) } ?? Self.pageSize
            let page = query["Page"].flatMap { Int(String($0)) } ?? 0
            let now = self.clock()
            let (fault, listed, more) = self.state.withLock { state -> (Fault?, [Held], Bool) in
                let fault = self.drawFault(&state, from: [.serverError, .throttled])
                if let fault { state.faults["lookup " + fault.rawValue, default: 0] += 1 }
                let all = state.twilioMessages.filter { $0.to == to && (from.isEmpty || $0.from == from) }.reversed()
                let listed = Array(all.dropFirst(page * size).prefix(size))
                let answer = fault?.rawValue ?? (listed.isEmpty ? "empty" : "listed")
                state.requests.append(Request(key: "twilio:" + to, at: now, answer: answer, lookup: true))
                return (fault, listed, all.count > (page + 1) * size)
            }
            if let fault {
                return fault == .throttled
                    ? Self.json(.tooManyRequests, #"{"code":20429,"message":"Too Many Requests","status":429}"#)
                    : Self.json(.internalServerError, #"{"code":20500,"message":"Internal Server Error","status":500}"#)
            }
            func item(_ held: Held) -> JSONValue {
                .object([
                    ("sid", .string(held.sid)), ("to", .string(held.to)), ("from", .string(held.from)),
                    ("body", .string(held.body)), ("date_created", .string(TwilioDates.rfc2822(held.created))),
                    ("status", .string("sent")),
                ])
            }
            let sid = context.parameters.get("sid") ?? ""
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
            let next: JSONValue =
                more
                ? .string(
                    "/2010-04-01/Accounts/\(sid)/Messages.json?To=\(encode(to))&From=\(encode(from))"
                        + "&PageSize=\(size)&Page=\(page + 1)&PageToken=PA\(page + 1)")
                : .null
            let body = JSONValue.object([
                ("messages", .array(listed.map(item))), ("next_page_uri", next), ("page", .number("\(page)")),
                ("page_size", .number("\(size)")),
            ])
            return Self.json(.ok, body.serialized())
        }
        // A POST to the path the GET above holds is routed there, not to "**": both lead here.
        let send: @Sendable (Hummingbird.Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let twilio = request.uri.path.hasSuffix("Messages.json")
            let form = twilio ? Self.form(body) : [:]
            let key: String
            if twilio {
                key = "twilio:" + (form["To"] ?? "?")
            } else {
                let json = try JSONParser.parse(Array(body.utf8))
                key = "whatsapp:" + (json["to"]?.scalarText ?? "?")
            }
            let now = self.clock()
            let (fault, sid) = self.state.withLock { state -> (Fault?, String) in
                let fault = self.drawFault(&state, from: [.serverError, .throttled, .slow, .lostAnswer, .expiredToken])
                if let fault { state.faults[fault.rawValue, default: 0] += 1 }
                var sid = ""
                if fault == nil || fault == .slow || fault == .lostAnswer {
                    // Accepted: the message exists at the provider, whether or not its answer arrives.
                    state.deliveries[key, default: 0] += 1
                    state.sids += 1
                    sid = twilio ? "SM\(state.sids)" : "wamid.\(state.sids)"
                    if twilio {
                        let held = Held(
                            sid: sid, to: form["To"] ?? "", from: form["From"] ?? "", body: form["Body"] ?? "",
                            created: now)
                        state.twilioMessages.append(held)
                    }
                }
                let answer = fault?.rawValue ?? "ok"
                state.requests.append(
                    Request(key: key, at: now, answer: answer, retryAfter: fault == .throttled ? Self.retryAfter : nil))
                return (fault, sid)
            }
            switch fault {
            case .serverError?:
                return twilio
                    ? Self.json(.internalServerError, #"{"code":20500,"message":"Internal Server Error","status":500}"#)
                    : Self.json(
                        .internalServerError,
                        #"{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1}}"#)
            case .throttled?:
                return Self.json(
                    .tooManyRequests,
                    twilio
                        ? #"{"code":20429,"message":"Too Many Requests","status":429}"#
                        : #"{"error":{"message":"Rate limit hit","type":"OAuthException","code":130429}}"#,
                    headers: [.retryAfter: "\(Int(Self.retryAfter))"])
            case .expiredToken?:
                return twilio
                    ? Self.json(.unauthorized, #"{"code":20003,"message":"Authenticate","status":401}"#)
                    : Self.json(
                        .unauthorized,
                        #"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190}}"#
                    )
            case .lostAnswer?:
                return Response(status: .created, headers: [Self.dropHeader: "1"])
            case .slow?, nil:
                if fault == .slow { try await Task.sleep(for: Self.slowness) }
                return twilio
                    ? Self.json(.created, #"{"sid":"\#(sid)","status":"queued"}"#)
                    : Self.json(.ok, #"{"messaging_product":"whatsapp","messages":[{"id":"\#(sid)"}]}"#)
            case .reset?:
                preconditionFailure("resets are decided before routing")
            }
        }
        router.post("2010-04-01/Accounts/:sid/Messages.json", use: send)
        router.post("**", use: send)
        return router
    }

    static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    /// Sits after HTTP decoding: when the provider decides so, the connection is closed with
    /// SO_LINGER 0 (a TCP reset) on the first part of a request, before any answer; and a
    /// response marked `X-Chaos-Drop` is never written: the connection is reset instead.
    final class ResetHandler: ChannelDuplexHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart
        let provider: ChaosProvider
        let dropping = Mutex(false)
        init(provider: ChaosProvider) { self.provider = provider }

        func reset(_ context: ChannelHandlerContext) {
            if let socket = context.channel as? any SocketOptionProvider {
                socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data), provider.resetsNextRequest() {
                reset(context)
                return
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let part = unwrapOutboundIn(data)
            if case .head(let head) = part, head.headerFields[ChaosProvider.dropHeader] != nil {
                dropping.withLock { $0 = true }
                reset(context)
            }
            if dropping.withLock({ $0 }) {
                promise?.fail(NIOCore.ChannelError.ioOnClosedChannel)
                return
            }
            context.write(data, promise: promise)
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
            return WebhookRequest(
                provider: "cod-fulfillment", headers: input.headers, body: Array(text.utf8), receivedAt: dispatch.now)
        }
    }

    @Test func everyMessageIsSentOnceOrFailedForTheRightReasonWithinTheRetryPolicy() async throws {
        let start = dispatch.now
        let clock = Mutex(start)
        let now: @Sendable () -> Date = { clock.withLock { $0 } }
        let provider = ChaosProvider(clock: now)
        let app = Application(
            router: provider.router(),
            server: .http1(
                configuration: .init(additionalChannelHandlers: [ChaosProvider.ResetHandler(provider: provider)])),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = client.port!
            let rules = try dispatch.ruleSet(port: port)
            let store = try SQLiteStore(path: dispatch.path)
            let logger = dispatch.logs.logger()
            let processor = EventProcessor(
                ruleSet: rules, templates: dispatch.templates, store: store, logger: logger, clock: now)
            let policy = RetryPolicy()
            let dispatcher = Dispatcher(
                store: store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
                transport: SharedTransport.loopback(requestTimeout: 2), policy: policy, logger: logger, clock: now)

            // 40 delivered orders (one SMS each) and 10 out for delivery (WhatsApp, plus an SMS
            // that the courier will call): 60 messages.
            let profile = rules.provider(named: "cod-fulfillment")!
            for request in try events("05-delivered.json", count: 40, from: 0)
                + events("03-out_for_delivery.json", count: 10, from: 100)
            {
                _ = try await store.record(
                    IncomingEvent(request: request, profile: profile))
            }
            try await processor.processPending()
            let queued = try await store.messages(MessageQuery(limit: 1_000))
            #expect(queued.count == 60)

            // Six hours of chaos, then the provider recovers and the operator, having renewed the
            // WhatsApp token, runs `herald retry` on the held messages. The clock jumps to the
            // next due message (or lookup) after each round.
            var rounds = 0
            var released = 0
            while rounds < 3_000 {
                rounds += 1
                try await dispatcher.dispatchDue()
                // Settled: sent, failed, or unknown with nothing left to ask (WhatsApp: a receipt would say).
                let open = try await store.messages(MessageQuery(limit: 1_000)).filter {
                    $0.state != .sent && $0.state != .failed && !($0.state == .unknown && $0.nextAttemptAt == nil)
                }
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
            let hours = Int(now().timeIntervalSince(start) / 3_600)
            Self.verify(
                messages: messages, requests: requests, deliveries: deliveries, faults: faults, policy: policy,
                released: released, summary: "\(rounds) rounds over \(hours) h")
            try await store.close()
        }
    }

    /// What a user would notice after the chaos: one message at the provider per message sent.
    static func verify(
        messages: [OutboxMessage], requests: [ChaosProvider.Request], deliveries: [String: Int], faults: [String: Int],
        policy: RetryPolicy, released: Int, summary: String
    ) {
        let sent = messages.filter { $0.state == .sent }
        let failed = messages.filter { $0.state == .failed }
        let unknown = messages.filter { $0.state == .unknown }
        let lookups = requests.filter(\.lookup)
        print(
            "chaos: \(messages.count) messages, \(requests.count - lookups.count) sends and "
                + "\(lookups.count) lookups, "
                + "faults \(faults.sorted { $0.key < $1.key }), \(sent.count) sent, \(failed.count) failed "
                + "(\(Set(failed.compactMap(\.lastError)))), \(unknown.count) unknown, \(released) released from hold, "
                + summary)

        // Every fault happened, lookups were needed, and everything settled.
        #expect(Set(ChaosProvider.Fault.allCases.map(\.rawValue)).isSubset(of: Set(faults.keys)))
        #expect(released > 0)
        #expect(lookups.contains { $0.answer == "listed" } && lookups.contains { $0.answer == "empty" })
        #expect(sent.count + failed.count + unknown.count == 60)

        func key(_ message: OutboxMessage) -> String {
            (message.channel == "whatsapp" ? "whatsapp:" : "twilio:") + message.recipient
        }
        #expect(Set(messages.map(key)).count == 60)
        // Sent exactly once: one message at the provider per message sent, never two, although
        // the fake Twilio does not deduplicate and some of its answers were lost.
        for message in sent { #expect(deliveries[key(message)] == 1, "\(message.rule) #\(message.id)") }
        #expect(deliveries.values.allSatisfy { $0 == 1 })
        // Twilio: every lost answer was resolved by a lookup, so every SMS is sent.
        #expect(messages.filter { $0.channel != "whatsapp" }.allSatisfy { $0.state == .sent })
        // Nothing is sent to Twilio again once it holds the message.
        for message in messages where message.channel != "whatsapp" {
            let sends = requests.filter { $0.key == key(message) && !$0.lookup }
            let accepted = sends.firstIndex { ["ok", "slow", "lost"].contains($0.answer) }
            #expect(accepted == sends.count - 1, "\(message.rule) #\(message.id): \(sends.map(\.answer))")
        }
        // WhatsApp cannot be asked: an answer lost to a timeout or a reset leaves the message
        // unknown (it may or may not have arrived), never resent.
        for message in unknown {
            #expect(message.channel == "whatsapp")
            #expect(message.lastError?.hasPrefix("unknown outcome:") == true, "\(message.lastError ?? "")")
            #expect(deliveries[key(message), default: 0] <= 1)
        }
        // Retries within the policy: at most its attempts, and after a 500 or a 429 never
        // sooner than the schedule (−20 % jitter) or the provider's Retry-After allowed.
        // Not when a lookup came between the two sends: then the answer did not reach the
        // dispatcher within its timeout (cores busy with the rest of the suite), so it knew
        // nothing of the 429, asked Twilio as it must, and sent once Twilio did not hold it.
        for message in messages {
            #expect(message.attempts <= policy.maxAttempts)
            let asked = requests.filter { $0.key == key(message) }
            let tries = asked.indices.filter { !asked[$0].lookup }
            for (n, (first, next)) in zip(tries, tries.dropFirst()).enumerated() {
                let pair = (asked[first], asked[next])
                guard ["500", "429"].contains(pair.0.answer), !asked[first..<next].contains(where: \.lookup) else {
                    continue
                }
                let allowed = max(policy.baseDelay(afterAttempt: n + 1) * (1 - policy.jitter), pair.0.retryAfter ?? 0)
                #expect(
                    pair.1.at.timeIntervalSince(pair.0.at) >= allowed - 0.001,
                    "\(message.rule) #\(message.id) try \(n + 2)")
            }
        }
        // The store agrees with the provider: the recorded ids are the ones it handed out.
        #expect(Set(sent.compactMap(\.providerMessageID)).count == sent.count)
    }
}
