import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// AsyncHTTPClient with one bounded pool of kept-alive connections per host, for every method.
///
/// A provider send must never go out twice unless the dispatcher decides so: a second SMS is worse
/// than a slow one. libcurl (FoundationNetworking's URLSession) re-sends a request on a new
/// connection when a reused one turns out dead, with no switch to stop it, so Herald used to open a
/// URLSession and a connection per POST: 851 sends/s eight at a time on loopback, and end-to-end
/// p99 above a second at 1 000 webhooks/s with the dispatcher as the bottleneck.
///
/// AsyncHTTPClient 1.37.0 never replays a request, as its source shows:
/// - `ConnectionPool/HTTP1/HTTP1ConnectionStateMachine.swift`, `runNewRequest`: a request handed
///   to a connection that is already closing or closed fails with `remoteConnectionClosed`
///   ("TODO: AHC should support a fast rescheduling mechanism here"), it is not queued again.
/// - `ConnectionPool/HTTPRequestStateMachine.swift`, `channelInactive`: a connection that closes
///   while a request runs fails that request with `remoteConnectionClosed`, nothing else.
/// - The only retry in the pool (`HTTPConnectionPool+HTTP1StateMachine.swift`,
///   `failedToCreateNewConnection`, `retryConnectionEstablishment`) retries establishing a
///   connection, before any request is written on it; it is turned off below so that a refused
///   connection fails at once, as with URLSession, instead of at the connect deadline.
/// Redirects are followed as URLSession did (default configuration); HTTP/2 is off, so the path
/// above is the only one a request takes.
///
/// NIOSSL, the objection to AsyncHTTPClient when URLSession was chosen, is in every build anyway
/// through postgres-nio. The cost of never replaying: a server that closes a kept-alive
/// connection just as a request goes out makes that send an unknown outcome, for the dispatcher
/// to resolve (Twilio: a lookup); idle connections are closed after 30 s, before common
/// keep-alive limits (nginx 75 s, load balancers 60 s), to make that rare.
///
/// Run it as a `Service` (it closes its connections at graceful shutdown) or call `shutdown()`.
public final class HTTPClientTransport: HTTPTransport, Service {
    let client: HTTPClient
    let requestTimeout: TimeAmount
    /// Bodies larger than this are not read (provider and merchant answers are a few KiB).
    static let maxResponseBytes = 16 << 20

    /// - Parameters:
    ///   - requestTimeout: the connect timeout, the longest wait for a byte of the answer, and the
    ///     longest a request may take in all (as URLSession's request and resource timeouts were).
    ///   - connectionsPerHost: kept-alive connections per host; more requests wait for one.
    public init(requestTimeout: TimeInterval = 15, connectionsPerHost: Int = 8) {
        let timeout = TimeAmount.nanoseconds(Int64(requestTimeout * 1_000_000_000))
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: timeout, read: timeout)
        configuration.connectionPool = .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        self.requestTimeout = timeout
    }

    public func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty || request.method != "GET" { outgoing.body = .bytes(request.body) }
        do {
            let response = try await client.execute(outgoing, timeout: requestTimeout)
            var headers: [String: String] = [:]
            for (name, value) in response.headers {
                headers[name] = headers[name].map { "\($0), \(value)" } ?? value
            }
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            return IncomingResponse(
                status: Int(response.status.code), headers: headers, body: Array(buffer: body))
        } catch {
            throw TransportError(sending: error)
        }
    }

    /// Waits for graceful shutdown, then closes the pool (its owner stops it after the dispatcher
    /// and the processor, which send through it).
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}
