import Foundation
import Logging
import PostgresNIO

/// One connection made outside the pool before it starts: the pool retries a failing connection
/// quietly (for up to a minute before its requests fail), where an operator starting Herald wants
/// the reason at once: connection refused, a password that does not match, a database missing.
extension PostgresStore {
    static func probe(_ url: PostgresURL, logger: Logger) async throws {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        let tls: PostgresConnection.Configuration.TLS
        switch url.sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: unverified))
        case .require: tls = .require(try NIOSSLContext(configuration: unverified))
        case .verifyFull: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try? await connection.close()
    }
}
