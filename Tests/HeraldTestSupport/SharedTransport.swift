import HeraldDispatch
import Synchronization

/// One `HTTPClientTransport` per request timeout for the whole test process, as `herald serve`
/// has one per process. Never shut down: tests build pipelines in helpers that return, and a
/// process-long client is what the server runs with (AsyncHTTPClient stops a debug build only
/// when an open client is released, which a static never is).
public enum SharedTransport {
    static let transports = Mutex<[Double: HTTPClientTransport]>([:])

    public static func loopback(requestTimeout: Double) -> HTTPClientTransport {
        transports.withLock { transports in
            if let transport = transports[requestTimeout] { return transport }
            let transport = HTTPClientTransport(requestTimeout: requestTimeout)
            transports[requestTimeout] = transport
            return transport
        }
    }
}
