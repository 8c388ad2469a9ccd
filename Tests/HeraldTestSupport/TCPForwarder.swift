import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback TCP forwarder a test turns on and off in front of the test cluster, to give
/// `herald serve` the two outages a database has:
///
/// - `.restart`: every connection it carries is closed in both directions (each side reads its
///   end) and new connections are refused until `open()`, as when the server restarts or crashes.
/// - `.partition`: nothing passes any more, either way, and nothing is said (no end, no refusal):
///   new connections get no answer, a query sent gets no reply, as when the network is cut or the
///   host vanishes. `open()` lets the held bytes through again, none lost, as TCP would once the
///   network is back.
///
/// It keeps its port across every state.
public final class TCPForwarder: Sendable {
    public enum Outage: Sendable, CustomStringConvertible {
        case restart, partition
        public var description: String { self == .restart ? "restart" : "partition" }
    }

    public let port: Int
    private let upstreamPort: Int
    /// Bound to `port` and never listening, for the forwarder's whole life: while it is "down"
    /// connections are refused, and no other socket (a test's server on port 0, an outgoing
    /// connection) can take the port between a restart and the next `open()`. Without it one did,
    /// and `open()` failed with EADDRINUSE.
    private let holder: Int32

    /// The two sockets of one forwarded connection, closed once both pumps have stopped.
    private final class Link: Sendable {
        let client: Int32
        let server: Int32
        /// Pumps still running; 0 once the sockets are closed. Under a lock with `shutDown`: a
        /// closed descriptor's number is soon another socket of the test process (an HTTP
        /// client's), which a late shutdown would cut.
        let pumping = Mutex(2)

        init(client: Int32, server: Int32) {
            (self.client, self.server) = (client, server)
        }

        func shutDown() {
            pumping.withLock { pumping in
                guard pumping > 0 else { return }
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(server, Int32(SHUT_RDWR))
            }
        }

        func pumpEnded() {
            pumping.withLock { pumping in
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(server, Int32(SHUT_RDWR))
                pumping -= 1
                if pumping == 0 {
                    close(client)
                    close(server)
                }
            }
        }
    }

    private struct State {
        var listener: Int32 = -1
        var links: [Link] = []
        /// Bumped by every restart: a connection accepted before one is not carried after it.
        var generation = 0
        var partitioned = false
    }

    private let state = Mutex(State())

    /// Reserves a free port; the forwarder starts refusing connections (as `.restart`).
    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let holder = try Self.boundSocket(port: 0)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) }
        }
        self.holder = holder
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        cut(.restart)
        close(holder)
    }

    /// Passes connections through (again): accepts new ones, and after a partition lets the held
    /// bytes go.
    public func open() throws {
        let listener: Int32? = try state.withLock { state in
            state.partitioned = false
            guard state.listener < 0 else { return nil }
            state.listener = try Self.listeningSocket(port: port)
            return state.listener
        }
        guard let listener else { return }
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { break }
                let generation = state.withLock { $0.generation }
                // A partition answers no new connection either (it stays in the kernel's queue).
                guard waitWhilePartitioned(generation: generation),
                    let server = try? Self.connected(port: upstreamPort)
                else {
                    close(client)
                    continue
                }
                let link = Link(client: client, server: server)
                let carried = state.withLock { state in
                    guard state.generation == generation else { return false }
                    state.links.append(link)
                    return true
                }
                guard carried else {
                    close(client)
                    close(server)
                    continue
                }
                Thread.detachNewThread { self.pump(link, from: client, to: server, generation: generation) }
                Thread.detachNewThread { self.pump(link, from: server, to: client, generation: generation) }
            }
            close(listener)
        }
    }

    /// Starts an outage of the given kind.
    public func cut(_ outage: Outage) {
        switch outage {
        case .partition:
            state.withLock { $0.partitioned = true }
        case .restart:
            let (listener, links) = state.withLock { state in
                defer {
                    state.listener = -1
                    state.links = []
                    state.generation += 1
                    state.partitioned = false
                }
                return (state.listener, state.links)
            }
            // The accept thread then ends and closes it; connecting meanwhile is refused.
            if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
            for link in links { link.shutDown() }
        }
    }

    /// Waits while a partition lasts; false when a restart ended the connection meanwhile.
    private func waitWhilePartitioned(generation: Int) -> Bool {
        while true {
            let (current, partitioned) = state.withLock { ($0.generation, $0.partitioned) }
            if current != generation { return false }
            if !partitioned { return true }
            usleep(10_000)
        }
    }

    private func pump(_ link: Link, from source: Int32, to destination: Int32, generation: Int) {
        defer { link.pumpEnded() }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            // Not read during a partition: the bytes wait in the kernel, as they would on the wire.
            guard waitWhilePartitioned(generation: generation) else { return }
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count <= 0 {
                // An end does not cross a partition either.
                _ = waitWhilePartitioned(generation: generation)
                return
            }
            // Read just as a partition began: held until it ends.
            guard waitWhilePartitioned(generation: generation) else { return }
            var sent = 0
            while sent < count {
                // MSG_NOSIGNAL: a peer gone must end this pump, not the test process (SIGPIPE).
                let written = buffer.withUnsafeBytes {
                    send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL))
                }
                if written <= 0 { return }
                sent += written
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A socket bound to `port` (0: a free one), sharing it with the forwarder's other sockets
    /// (`SO_REUSEPORT`: the holder and the listener of each `open()`).
    private static func boundSocket(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(socket, SOL_SOCKET, SO_REUSEPORT, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(socket)
            throw POSIXError(.EADDRINUSE)
        }
        return socket
    }

    private static func listeningSocket(port: Int) throws -> Int32 {
        let socket = try boundSocket(port: port)
        guard listen(socket, 16) == 0 else {
            close(socket)
            throw POSIXError(.EADDRINUSE)
        }
        return socket
    }

    private static func connected(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(socket)
            throw POSIXError(.ECONNREFUSED)
        }
        return socket
    }
}
