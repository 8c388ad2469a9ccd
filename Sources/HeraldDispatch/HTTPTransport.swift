import Foundation
import HeraldCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An outgoing HTTP request, built by a channel or the enricher.
public struct OutgoingRequest: Sendable, Equatable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: [UInt8]

    /// Every request says `User-Agent: herald/<version>` (`HeraldVersion.userAgent`) unless its
    /// headers name another one (an HTTP gateway's configured headers win).
    public init(method: String = "POST", url: URL, headers: [String: String], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        if !headers.keys.contains(where: { $0.caseInsensitiveCompare("User-Agent") == .orderedSame }) {
            self.headers["User-Agent"] = HeraldVersion.userAgent
        }
        self.body = body
    }
}

/// What came back.
public struct IncomingResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// Why a request has no response.
public enum TransportError: Error, Sendable, Equatable {
    /// Nothing reached the provider (connection refused, DNS, TLS): safe to retry.
    case notSent(String)
    /// The request may have been received and acted on (timeout or reset after sending).
    case unknownOutcome(String)
}

/// The seam between channels and the network; a recording twin stands in for it in tests.
public protocol HTTPTransport: Sendable {
    func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse
}

/// libcurl through FoundationNetworking's URLSession: connect and total timeouts; connections
/// reused for GETs only.
///
/// Why a fresh session (so a fresh connection) for every POST: libcurl sends a request again on a
/// new connection when a reused one turns out dead, and URLSession offers no switch for it. For a
/// provider send that is a second SMS nobody decided on. A request on a connection of its own is
/// never replayed, so a reset or timeout surfaces here as an unknown outcome, for the dispatcher
/// to resolve (Twilio: a lookup). Measured on loopback (README, Performance; 300 sends, debug
/// build): 4.3 ms per send against 0.75 ms with reuse one at a time, 851/s against 1 235/s eight at
/// a time; against Twilio add a TLS handshake. Small beside the provider's answer time and rates,
/// and nothing against a second SMS. AsyncHTTPClient (which never replays) was the other option;
/// it would bring NIOSSL and a second connection pool into every build for this one call site.
public final class URLSessionTransport: HTTPTransport {
    let session: URLSession
    let configuration: URLSessionConfiguration

    public init(requestTimeout: TimeInterval = 15) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = requestTimeout
        configuration.timeoutIntervalForResource = requestTimeout
        configuration.httpMaximumConnectionsPerHost = 8
        self.configuration = configuration
        session = URLSession(configuration: configuration)
    }

    /// A GET or HEAD may be replayed harmlessly; anything else gets a connection of its own.
    public func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
        if request.method == "GET" || request.method == "HEAD" { return try await send(request, on: session) }
        let fresh = URLSession(configuration: configuration)
        defer { fresh.finishTasksAndInvalidate() }
        return try await send(request, on: fresh)
    }

    /// Sends every request on the shared session, reused connections included (for measuring).
    public func sendReusingConnections(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
        try await send(request, on: session)
    }

    func send(_ request: OutgoingRequest, on session: URLSession) async throws(TransportError) -> IncomingResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        if !request.body.isEmpty || request.method != "GET" { urlRequest.httpBody = Data(request.body) }
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        do {
            let (data, response) = try await session.data(for: urlRequest)
            let http = response as? HTTPURLResponse
            var headers: [String: String] = [:]
            for (key, value) in http?.allHeaderFields ?? [:] {
                if let key = key as? String, let value = value as? String { headers[key] = value }
            }
            return IncomingResponse(status: http?.statusCode ?? 0, headers: headers, body: Array(data))
        } catch let error as URLError {
            switch error.code {
            case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .secureConnectionFailed, .notConnectedToInternet:
                throw .notSent("\(error.code)")
            default:
                throw .unknownOutcome("\(error.code)")
            }
        } catch {
            throw .unknownOutcome("\(error)")
        }
    }
}
