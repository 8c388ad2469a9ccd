import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback TCP forwarder a test turns on and off: while open it passes connections through to
/// `upstreamPort`; closed, it refuses new connections and cuts the ones it carries, as a database
/// that went away would. It keeps its port across both states.
final class TCPForwarder: Sendable {
    let port: Int
    private let upstreamPort: Int
    private struct State {
        var listener: Int32 = -1
        var connections: [Int32] = []
    }

    private let state = Mutex(State())

    /// Reserves a free port; the forwarder starts closed.
    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let socket = try Self.listeningSocket(port: 0)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        close(socket)
    }

    deinit { cut() }

    /// Accepts connections and forwards them.
    func open() throws {
        let listener = try Self.listeningSocket(port: port)
        state.withLock { $0.listener = listener }
        let upstreamPort = upstreamPort
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { break }
                guard let server = try? Self.connected(port: upstreamPort) else {
                    close(client)
                    continue
                }
                state.withLock { $0.connections += [client, server] }
                Thread.detachNewThread { Self.pump(from: client, to: server) }
                Thread.detachNewThread { Self.pump(from: server, to: client) }
            }
            close(listener)
        }
    }

    /// Refuses new connections and cuts every open one.
    func cut() {
        let (listener, connections) = state.withLock { state in
            defer { state = State() }
            return (state.listener, state.connections)
        }
        if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
        for socket in connections { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + sent, count - sent) }
                if written <= 0 { break }
                sent += written
            }
            if sent < count { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func listeningSocket(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(socket, 16) == 0 else {
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
