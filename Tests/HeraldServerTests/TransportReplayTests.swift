import Foundation
import HeraldDispatch
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The HTTP stack must not send a POST twice on its own: a provider that creates the message and
/// drops the connection without answering sees it once, and Herald sees an unknown outcome.
@Suite("URLSessionTransport never replays a send")
struct TransportReplayTests {
    @Test func aLostAnswerIsAnUnknownOutcomeAndOneArrival() async throws {
        let provider = ChaosProvider(clock: Date.init)
        provider.recover()  // no random resets: only the drop below
        let arrivals = Mutex(0)
        let router = Router()
        router.post("**") { request, _ -> Response in
            var request = request
            _ = try await request.collectBody(upTo: 1 << 16)
            let n = arrivals.withLock {
                $0 += 1; return $0
            }
            // The second message is created, then its answer is lost with the connection.
            if n == 2 { return Response(status: .created, headers: [ChaosProvider.dropHeader: "1"]) }
            return Response(status: .created, body: .init(byteBuffer: ByteBuffer(string: #"{"sid":"SM\#(n)"}"#)))
        }
        let app = Application(
            router: router,
            server: .http1(
                configuration: .init(additionalChannelHandlers: [ChaosProvider.ResetHandler(provider: provider)])),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let request = OutgoingRequest(
                url: URL(string: "http://127.0.0.1:\(client.port!)/2010-04-01/Accounts/AC1/Messages.json")!,
                headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Array("To=%2B1&Body=hi".utf8))
            let transport = URLSessionTransport(requestTimeout: 5)
            let first = try await transport.send(request)
            #expect(first.status == 201)
            do {
                _ = try await transport.send(request)
                Issue.record("a dropped connection is not an answer")
            } catch TransportError.unknownOutcome {
                // As it should be: the message may exist at the provider.
            } catch {
                Issue.record("expected an unknown outcome, got \(error)")
            }
            #expect(arrivals.withLock { $0 } == 2)
        }
    }
}
