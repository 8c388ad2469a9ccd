import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A local Twilio for bench/e2e: answers `Messages.json` with 201 and records, per idempotency
/// token, when each request arrived. `GET /stats` returns them as JSON:
/// `{"requests": N, "distinct": N, "arrivals": {"<order reference>": <unix seconds>, …}}`.
@main
struct FakeProvider {
    static func main() async throws {
        let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8082 : 8082
        let state = Mutex<(requests: Int, tokens: Set<String>, arrivals: [String: Double])>((0, [], [:]))
        let router = Router()
        router.post("2010-04-01/Accounts/:sid/Messages.json") { request, _ -> Response in
            let arrived = Date().timeIntervalSince1970
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 16))
            let token = request.headers[HTTPField.Name("I-Twilio-Idempotency-Token")!] ?? ""
            // The order reference is in the message text: "… BENCH-0000042 …".
            let reference = body.removingPercentEncoding?.split(whereSeparator: { " +&=".contains($0) })
                .first { $0.hasPrefix("BENCH-") }.map(String.init) ?? "?"
            let count = state.withLock { state -> Int in
                state.requests += 1
                state.tokens.insert(token)
                if state.arrivals[reference] == nil { state.arrivals[reference] = arrived }
                return state.requests
            }
            return Response(
                status: .created, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"sid":"SM\#(count)","status":"queued"}"#)))
        }
        router.get("stats") { _, _ -> Response in
            let text = state.withLock { state -> String in
                let arrivals = state.arrivals.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
                return #"{"requests":\#(state.requests),"distinct":\#(state.tokens.count),"arrivals":{\#(arrivals)}}"#
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        var logger = Logger(label: "fake-provider")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
    }
}
