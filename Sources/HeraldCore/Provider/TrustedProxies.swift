import Foundation

/// The reverse proxies whose `X-Forwarded-For` Herald believes (`herald serve --trusted-proxy`).
///
/// A request whose TCP peer lies in one of these networks came through a proxy: its client is
/// read from `X-Forwarded-For`, right to left, skipping the addresses that are trusted proxies
/// themselves; the first untrusted one is the client (if every entry is trusted, the leftmost).
/// From any other peer, or when no proxy is trusted, `X-Forwarded-For` is ignored entirely, so a
/// client cannot choose the address `allow_ips` sees. An entry that is not an IP address stops
/// the walk and the peer (the proxy) is taken as the client: garbage never becomes an address.
public struct TrustedProxies: Sendable, Hashable, CustomStringConvertible {
    public var networks: [CIDR]

    public init(_ networks: [CIDR] = []) {
        self.networks = networks
    }

    /// An entry of `--trusted-proxy` or `HERALD_TRUSTED_PROXIES` that is not a CIDR or address.
    public struct InvalidEntry: Error, Sendable, Equatable {
        public var text: String

        public init(text: String) { self.text = text }
    }

    /// Parses every entry (`10.0.0.0/8`, `127.0.0.1`, `::1/128`); throws on the first that is not valid.
    public init(parsing entries: [String]) throws(InvalidEntry) {
        var networks: [CIDR] = []
        for entry in entries {
            guard let network = CIDR(entry) else { throw InvalidEntry(text: entry) }
            networks.append(network)
        }
        self.networks = networks
    }

    /// `HERALD_TRUSTED_PROXIES`' entries: separated by commas, spaces or both.
    public static func entries(inEnvironmentValue value: String) -> [String] {
        value.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }

    public var isEmpty: Bool { networks.isEmpty }

    public var description: String { networks.map(\.description).joined(separator: ",") }

    /// Whether `address` (textual IPv4 or IPv6) lies in a trusted network.
    public func trusts(_ address: String) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy and `forwardedFor`
    /// (every `X-Forwarded-For` header value, in the order received) names another.
    public func clientAddress(peer: String?, forwardedFor: [String]) -> String? {
        guard let peer, !networks.isEmpty, trusts(peer) else { return peer }
        let entries = forwardedFor.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for entry in entries.reversed() {
            guard let address = Self.address(entry) else { return peer }
            client = address
            if !trusts(address) { return address }
        }
        return client
    }

    /// A bare IPv4 or IPv6 address (`[…]` around IPv6 allowed), or nil: no port, no zone, nothing else.
    static func address(_ entry: String) -> String? {
        var text = Substring(entry)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        guard !text.isEmpty, text.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else { return nil }
        guard CIDR.parseAddress(String(text)) != nil else { return nil }
        return String(text)
    }
}
