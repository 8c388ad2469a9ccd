import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `herald serve` while its PostgreSQL database is away, reached through a forwarder the test
/// turns off and on: it starts without the database, answers 503 (with `Retry-After`) until it
/// connects, answers 503 quickly when the database goes away, and loses nothing it acknowledged.
@Suite("herald serve through a PostgreSQL outage", .enabled(if: !PostgresTestDatabase.skipped))
struct PostgresOutageTests {
    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-pg-out-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    let folder: URL
    static let password = "0utage-5ecret-word"

    var rulesPath: String { folder.appendingPathComponent("rules.yaml").path }

    /// A delivered webhook of an order no other test uses, with its signed headers.
    static func webhook() -> (body: [UInt8], headers: [HeaderField], reference: String) {
        let reference = "ORD-OUT-\(UUID().uuidString.prefix(8))"
        let sample = String(decoding: Fixtures.sample("cod-fulfillment", "delivered.json"), as: UTF8.self)
        let body = Array(sample.replacingOccurrences(of: "ORD-000129", with: reference).utf8)
        return (body, Fixtures.signedHeaders(provider: "cod-fulfillment", body: body), reference)
    }

    /// Status, `Retry-After` and body of a GET or POST to the server on `port`.
    static func send(port: Int, path: String, body: [UInt8]? = nil, headers: [HeaderField] = []) async throws
        -> (status: Int, retryAfter: String?, body: String)
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 30
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body)
        }
        for header in headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        let retryAfter = http?.value(forHTTPHeaderField: "Retry-After")
        return (http?.statusCode ?? 0, retryAfter, String(decoding: data, as: UTF8.self))
    }

    /// Repeats `probe` until it is true, for up to `seconds`.
    static func eventually(seconds: Double, _ probe: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await probe() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    @Test func serveRidesOutAnOutageAndLosesNothingAcknowledged() async throws {
        try FileManager.default.copyItem(
            atPath: Fixtures.root.appendingPathComponent("rules.yaml").path, toPath: rulesPath)
        let cluster = try PostgresTestDatabase.requiredURL()
        let forwarder = try TCPForwarder(upstreamPort: cluster.port)
        let url =
            "postgres://\(cluster.username):\(Self.password)@127.0.0.1:\(forwarder.port)"
            + "/\(cluster.database)?sslmode=disable"
        let server = try HeraldProcess(
            ["serve", "--rules", rulesPath, "--port", "0", "--db", url, "--db-timeout", "2"],
            environment: Fixtures.environment.values)
        defer { server.terminate() }

        // (a) No database at start-up: HTTP is up, and everything that needs the store answers 503.
        #expect(await server.waitForLog("herald is listening"))
        let port = try #require(ServeCommandTests.listeningPort(in: server.stderr))
        #expect(await server.waitForLog("database unreachable, retrying"))
        let health = try await Self.send(port: port, path: "/healthz")
        #expect(health.status == 503)
        #expect(health.body == #"{"status":"unavailable","reason":"database not connected yet"}"#)
        let first = Self.webhook()
        let refused = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: first.body, headers: first.headers)
        #expect(refused.status == 503)
        #expect(refused.retryAfter == "5")

        // The database comes: /healthz turns 200 and the same webhook is accepted.
        try forwarder.open()
        #expect(
            try await Self.eventually(seconds: 20) { try await Self.send(port: port, path: "/healthz").status == 200 })
        #expect(await server.waitForLog("database connected"))
        let accepted = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: first.body, headers: first.headers)
        #expect(accepted.status == 200)

        // (b) The database goes away while serving: a webhook gets its 503 within the timeout.
        forwarder.cut()
        let second = Self.webhook()
        let started = ContinuousClock.now
        let lost = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: second.body, headers: second.headers)
        #expect(lost.status == 503)
        #expect(lost.retryAfter == "5")
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try await Self.send(port: port, path: "/healthz").status == 503)

        // It comes back: the sender's retry is accepted, the event acknowledged before is there once.
        try forwarder.open()
        #expect(
            try await Self.eventually(seconds: 20) {
                try await Self.send(
                    port: port, path: "/webhooks/cod-fulfillment", body: second.body, headers: second.headers
                ).status == 200
            })
        let again = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: first.body, headers: first.headers)
        #expect(again.body == #"{"status":"duplicate"}"#)
        // The processor carried on by itself: the event accepted after the outage has its message.
        #expect(
            try await Self.eventually(seconds: 20) {
                let (_, listing, _) = try await HeraldProcess.run(
                    ["messages", "--rules", rulesPath, "--order", second.reference], environment: ["HERALD_DB": url])
                return listing.contains(second.reference)
            })
        server.process.interrupt()
        #expect(await server.wait(seconds: 20) == 0)
        #expect(server.stderr.contains("postgres://\(cluster.username):•••@127.0.0.1:\(forwarder.port)"))
        #expect(!server.stderr.contains(Self.password))
        #expect(!server.stderr.contains("+212661234567"))
        #expect(server.stderr.components(separatedBy: "database unreachable, retrying").count == 2)

        let (listed, listing, _) = try await HeraldProcess.run(
            ["events", "--rules", rulesPath, "--limit", "1000"], environment: ["HERALD_DB": url])
        #expect(listed == 0)
        #expect(listing.components(separatedBy: first.reference).count == 2)
        #expect(listing.components(separatedBy: second.reference).count == 2)
    }
}
