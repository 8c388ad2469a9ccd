import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

extension TransportError {
    /// AsyncHTTPClient's error for a request, as the dispatcher must read it: `.notSent` only when
    /// no byte of the request can have reached the server, because then a retry cannot duplicate a
    /// message; anything else (a read timeout, a reset or close after the request went out, the
    /// total deadline, a cancellation) is `.unknownOutcome`.
    ///
    /// Connection-establishment failures (refused, unreachable, DNS, connect timeout, TLS handshake,
    /// a pool that never got a connection) reach the request only while it waits in the pool's
    /// queue, before it is handed to a connection. One case errs on the safe side: a request handed
    /// to a connection the server closed a moment before fails with `remoteConnectionClosed`
    /// unsent, and is reported as an unknown outcome like a close after sending.
    init(sending error: any Error) {
        let description = "\(error)"
        self = Self.beforeSending(error) ? .notSent(description) : .unknownOutcome(description)
    }

    static func beforeSending(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError:
            if establishing.contains(error) { return true }
            // Cases with an associated value, which `==` cannot name without it; the short
            // description is documented as bounded and free of associated values.
            return invalidRequest.contains(error.shortDescription)
        case is NIOConnectionError:  // DNS or every address refused/unreachable (happy eyeballs)
            return true
        case let error as IOError:  // connect(2) to an IP address; a reset later is ECONNRESET/EPIPE
            return [ECONNREFUSED, ENETUNREACH].contains(error.errnoCode)
        case let error as NIOCore.ChannelError:
            if case .connectTimeout = error { return true }
            return false
        case let error as NIOSSLError:
            if case .handshakeFailed = error { return true }
            return false
        case let error as NIOSSLExtraError:  // checks made during the handshake
            return [.failedToValidateHostname, .serverHostnameImpossibleToMatch, .invalidSNIHostname].contains(error)
        default:
            return false
        }
    }

    static let establishing: [HTTPClientError] = [
        .invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown, .connectTimeout, .tlsHandshakeTimeout,
        .getConnectionFromPoolTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout, .invalidProxyResponse,
        .proxyAuthenticationRequired,
    ]

    static let invalidRequest: Set<String> = [
        HTTPClientError.unsupportedScheme("").shortDescription,
        HTTPClientError.invalidHeaderFieldNames([]).shortDescription,
        HTTPClientError.invalidHeaderFieldValues([]).shortDescription,
        HTTPClientError.serverOfferedUnsupportedApplicationProtocol("").shortDescription,
    ]
}
