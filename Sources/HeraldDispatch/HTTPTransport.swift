import Foundation
import HeraldCore

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
