import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Why `herald serve` stopped without serving, with what to do about it.
public struct ServeError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// Another process listens on the address: stop it or pick another `--port`.
        case addressInUse
        /// The address cannot be listened on for another reason (unknown host, no permission).
        case cannotListen
    }

    public var code: Code
    public var message: String

    public var description: String { message }
}

extension ServerConfiguration {
    /// `host:port` as the operator wrote them.
    public var address: String { "\(host):\(port)" }
}

/// Runs `herald serve`'s application until SIGTERM or SIGINT, then drains: in-flight requests,
/// sends and the event being processed finish, for at most `configuration.drainTime`; then
/// whatever is left is cancelled. Whatever state the process is in, it has ended one second after
/// the drain time has run out (`ShutdownDeadline`).
///
/// Throws ``ServeError`` when the server cannot listen (`127.0.0.1:8080 is already in use`); the
/// other services are then cancelled and the call returns at once.
///
/// `services` run alongside it in the same group (`RetentionService`).
public func runUntilStopped(
    _ app: some ApplicationProtocol, configuration: ServerConfiguration, logger: Logger,
    services: [any Service] = []
) async throws {
    var groupConfiguration = ServiceGroupConfiguration(
        services: [.init(service: app)] + services.map { .init(service: $0) },
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    groupConfiguration.maximumGracefulShutdownDuration = configuration.drainTime
    let deadline = ShutdownDeadline(after: configuration.drainTime + .seconds(1), logger: logger)
    defer { deadline.cancel() }
    do {
        try await ServiceGroup(configuration: groupConfiguration).run()
    } catch {
        if let problem = ServeError(listening: error, address: configuration.address) { throw problem }
        throw error
    }
}

extension ServeError {
    /// The server's bind error as the operator should read it; nil for any other error.
    init?(listening error: any Error, address: String) {
        guard let io = error as? IOError else { return nil }
        switch io.errnoCode {
        case EADDRINUSE: self.init(code: .addressInUse, message: "\(address) is already in use")
        case EADDRNOTAVAIL: self.init(code: .cannotListen, message: "\(address) is not an address of this machine")
        case EACCES: self.init(code: .cannotListen, message: "\(address): no permission to listen on this port")
        default: return nil
        }
    }
}

/// Ends the process when a SIGTERM or SIGINT has not ended it within the given time, whatever it
/// is waiting for: a graceful shutdown that cannot finish must not need `kill -9`.
final class ShutdownDeadline: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(after limit: Duration, logger: Logger) {
        let queue = DispatchQueue(label: "herald.shutdown-deadline")
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        sources = [SIGTERM, SIGINT].map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler {
                queue.asyncAfter(deadline: .now() + seconds) {
                    logger.critical("shutdown did not finish within the drain time; exiting")
                    exit(1)
                }
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
