import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A local Twilio for bench/e2e and bench/crash. Like Twilio it does not deduplicate: every
/// `POST …/Messages.json` creates a message, and `GET …/Messages.json?To=…&From=…` lists them
/// newest first (`messages` with sid, to, from, body, date_created, status; `next_page_uri`), as
/// Herald's lookup reads them. `GET /stats` returns:
/// `{"requests": N, "messages": N, "distinct": N, "per_order": {"<ref>": n, …}, "arrivals": {"<ref>": <unix seconds>, …}}`
/// (`distinct`: orders with at least one message; `per_order`: messages created per order).
@main
struct FakeProvider {
    struct Created: Sendable {
        var sid: String
        var to: String
        var from: String
        var body: String
        var at: Date
    }

    struct State {
        var requests = 0
        var messages: [Created] = []
        var perOrder: [String: Int] = [:]
        var arrivals: [String: Double] = [:]
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

    static func rfc2822(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    static func quoted(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])
        return data.map { String(decoding: $0.dropFirst().dropLast(), as: UTF8.self) } ?? "\"\""
    }

    static func main() async throws {
        let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8082 : 8082
        let state = Mutex(State())
        let router = Router()
        router.post("2010-04-01/Accounts/:sid/Messages.json") { request, _ -> Response in
            let arrived = Date()
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 16))
            let fields = form(body)
            // The order reference is in the message text: "… BENCH-0000042 …".
            let reference =
                (fields["Body"] ?? "").split(whereSeparator: {
                    !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-"))
                })
                .first { $0.hasPrefix("BENCH-") }.map(String.init) ?? "?"
            let sid = state.withLock { state -> String in
                state.requests += 1
                let sid = "SM\(state.messages.count + 1)"
                state.messages.append(
                    Created(
                        sid: sid, to: fields["To"] ?? "", from: fields["From"] ?? "", body: fields["Body"] ?? "",
                        at: arrived))
                state.perOrder[reference, default: 0] += 1
                if state.arrivals[reference] == nil { state.arrivals[reference] = arrived.timeIntervalSince1970 }
                return sid
            }
            return Response(
                status: .created, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"sid":"\#(sid)","status":"queued"}"#)))
        }
        router.get("2010-04-01/Accounts/:sid/Messages.json") { request, _ -> Response in
            let to = request.uri.queryParameters["To"].map(String.init) ?? ""
            let from = request.uri.queryParameters["From"].map(String.init)
            let listed = state.withLock { state in
                state.requests += 1
                return state.messages.filter { $0.to == to && (from == nil || $0.from == from) }.reversed()
            }
            let items = listed.map { message in
                #"{"sid":"\#(message.sid)","to":\#(quoted(message.to)),"from":\#(quoted(message.from)),"#
                    + #""body":\#(quoted(message.body)),"date_created":"\#(rfc2822(message.at))","status":"sent"}"#
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: #"{"messages":[\#(items.joined(separator: ","))],"next_page_uri":null}"#)))
        }
        router.get("stats") { _, _ -> Response in
            let text = state.withLock { state -> String in
                let arrivals = state.arrivals.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
                let perOrder = state.perOrder.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
                return
                    #"{"requests":\#(state.requests),"messages":\#(state.messages.count),"distinct":\#(state.arrivals.count),"#
                    + #""per_order":{\#(perOrder)},"arrivals":{\#(arrivals)}}"#
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        var logger = Logger(label: "fake-provider")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
    }
}
