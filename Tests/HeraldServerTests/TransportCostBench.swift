import Foundation
import HeraldDispatch
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends through HTTPClientTransport (kept-alive connections) against what Herald did before it: a
/// URLSession, so a connection, of its own per POST. On loopback; prints figures. Run with
/// `HERALD_BENCH=1 swift test --filter TransportCost`.
@Suite("Transport cost (benchmark)", .enabled(if: ProcessInfo.processInfo.environment["HERALD_BENCH"] != nil))
struct TransportCostBench {
    @Test func freshConnectionPerSendAgainstReuse() async throws {
        let router = Router()
        router.post("**") { request, _ -> Response in
            var request = request
            _ = try await request.collectBody(upTo: 1 << 16)
            return Response(
                status: .created, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"sid":"SM1","status":"queued"}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let url = URL(string: "http://127.0.0.1:\(client.port!)/2010-04-01/Accounts/AC1/Messages.json")!
            let request = OutgoingRequest(
                url: url, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Array("To=%2B212661234567&From=%2B212500000000&Body=Bonjour".utf8))
            let transport = HTTPClientTransport(requestTimeout: 5)
            let count = 300
            func measure(_ label: String, width: Int, _ send: @escaping @Sendable () async throws -> Void) async throws
            {
                for _ in 0..<10 { try await send() }  // warm-up
                let clock = ContinuousClock()
                let elapsed = try await clock.measure {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for lane in 0..<width {
                            group.addTask { for _ in stride(from: lane, to: count, by: width) { try await send() } }
                        }
                        try await group.waitForAll()
                    }
                }
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print(
                    String(
                        format: "transport: %@, %d sends %d at a time: %.0f sends/s, %.2f ms per send",
                        label, count, width, Double(count) / seconds, seconds * 1000 / Double(count) * Double(width)))
            }
            do {
                for width in [1, 8] {
                    try await measure("HTTPClientTransport", width: width) { _ = try await transport.send(request) }
                    try await measure("a URLSession per send", width: width) {
                        let session = URLSession(configuration: .ephemeral)
                        defer { session.finishTasksAndInvalidate() }
                        var urlRequest = URLRequest(url: url)
                        urlRequest.httpMethod = "POST"
                        urlRequest.httpBody = Data(request.body)
                        _ = try await session.data(for: urlRequest)
                    }
                }
            } catch {
                try await transport.shutdown()
                throw error
            }
            try await transport.shutdown()
        }
    }
}
