import Foundation
import HeraldDispatch
import NIOCore
import NIOPosix
import Testing

/// The transport `herald serve` sends through, over real loopback HTTP: connections are kept and
/// reused, a send is never replayed by the HTTP stack, and an error says whether the provider can
/// have received the request.
@Suite("HTTPClientTransport")
struct HTTPClientTransportTests {
    func send(to port: Int, scheme: String = "http") -> OutgoingRequest {
        OutgoingRequest(
            url: URL(string: "\(scheme)://127.0.0.1:\(port)/2010-04-01/Accounts/AC1/Messages.json")!,
            headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Array("To=%2B1&Body=hi".utf8))
    }

    func withTransport(
        requestTimeout: Double = 5, _ body: (HTTPClientTransport) async throws -> Void
    ) async throws {
        let transport = HTTPClientTransport(requestTimeout: requestTimeout)
        do {
            try await body(transport)
        } catch {
            try await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }

    @Test func sequentialSendsShareOneConnection() async throws {
        let server = try await CountingServer.start()
        try await withTransport { transport in
            for _ in 0..<20 {
                let response = try await transport.send(send(to: server.port))
                #expect(response.status == 201)
                #expect(String(decoding: response.body, as: UTF8.self).contains("SM1"))
                #expect(response.header("content-type") == "application/json")
            }
        }
        #expect(server.requestCount == 20)
        #expect(server.connectionCount == 1)
        try await server.stop()
    }

    /// The provider takes the second request on the kept-alive connection, then the connection
    /// dies before any answer: the message may exist, so the send must not be made again.
    @Test func aLostAnswerOnAReusedConnectionIsAnUnknownOutcomeAndOneArrival() async throws {
        let server = try await CountingServer.start { $0 == 2 ? .drop : .created }
        try await withTransport { transport in
            let first = try await transport.send(send(to: server.port))
            #expect(first.status == 201)
            do {
                _ = try await transport.send(send(to: server.port))
                Issue.record("a dropped connection is not an answer")
            } catch TransportError.unknownOutcome {
                // As it should be: the message may exist at the provider.
            } catch {
                Issue.record("a request the server took must not read as unsent: \(error)")
            }
            #expect(server.requestCount == 2)
            #expect(server.connectionCount == 1)
            // The next send, a decision of the caller, goes out once on a new connection.
            let third = try await transport.send(send(to: server.port))
            #expect(third.status == 201)
        }
        #expect(server.requestCount == 3)
        #expect(server.connectionCount == 2)
        try await server.stop()
    }

    @Test func noAnswerWithinTheTimeoutIsAnUnknownOutcome() async throws {
        let server = try await CountingServer.start { _ in .silence }
        try await withTransport(requestTimeout: 0.5) { transport in
            do {
                _ = try await transport.send(send(to: server.port))
                Issue.record("a silent server is not an answer")
            } catch TransportError.unknownOutcome {
            } catch {
                Issue.record("expected an unknown outcome, got \(error)")
            }
        }
        #expect(server.requestCount == 1)
        try await server.stop()
    }

    @Test func aRefusedConnectionIsNotSentAndFailsAtOnce() async throws {
        let server = try await CountingServer.start()
        let port = server.port
        try await server.stop()  // nothing listens on the port any more
        // The production timeout (15 s): a client that retried the connection would take all of it.
        try await withTransport(requestTimeout: 15) { transport in
            let started = ContinuousClock.now
            do {
                _ = try await transport.send(send(to: port))
                Issue.record("nothing listens on \(port)")
            } catch TransportError.notSent {
            } catch {
                Issue.record("expected not sent, got \(error)")
            }
            // At once, not at the timeout (a refusal once took 2.9 s on CI's loaded cores).
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    /// A TLS handshake with a server that speaks plain HTTP fails before any request is written.
    @Test func aFailedTLSHandshakeIsNotSent() async throws {
        let server = try await CountingServer.start()
        try await withTransport { transport in
            do {
                _ = try await transport.send(send(to: server.port, scheme: "https"))
                Issue.record("a plain HTTP server cannot complete a TLS handshake")
            } catch TransportError.notSent {
            } catch {
                Issue.record("expected not sent, got \(error)")
            }
        }
        #expect(server.requestCount == 0)
        try await server.stop()
    }
}
