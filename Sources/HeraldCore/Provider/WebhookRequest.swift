import Foundation

/// One header line as received.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A webhook exactly as it arrived: raw headers, raw body bytes and where it came from.
///
/// Verification always works on these bytes, never on a re-serialized body.
public struct WebhookRequest: Sendable {
    public var provider: String
    public var headers: [HeaderField]
    public var body: [UInt8]
    /// The peer's IP address, when known (for `allow_ips`).
    public var remoteAddress: String?
    /// The extra path segment of `/webhooks/{provider}/{token}`, when present.
    public var pathToken: String?
    public var receivedAt: Date

    public init(
        provider: String, headers: [HeaderField], body: [UInt8], remoteAddress: String? = nil,
        pathToken: String? = nil, receivedAt: Date
    ) {
        self.provider = provider
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.pathToken = pathToken
        self.receivedAt = receivedAt
    }

    /// The first header with this name, compared case-insensitively as HTTP requires.
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame })?.value
    }
}
