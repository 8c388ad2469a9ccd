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
@Suite(
    "herald serve through a PostgreSQL outage", .enabled(if: !PostgresTestDatabase.skipped), .serialized)
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

    /// A webhook answered 200 (or the duplicate of one), as the sender sees it.
    static func acknowledged(_ answer: (status: Int, retryAfter: String?, body: String)) -> Bool {
        answer.status == 200
    }

    // The two outages a database has: a restart (connections closed, new ones refused) and a
    // network cut (nothing answers, nothing is closed; the case that hung a worker loop on a query
    // for ever before every statement had a bound).
    @Test(arguments: [TCPForwarder.Outage.restart, .partition])
    func serveRidesOutAnOutageAndLosesNothingAcknowledged(_ outage: TCPForwarder.Outage) async throws {
        try FileManager.default.copyItem(
            atPath: Fixtures.root.appendingPathComponent("rules.yaml").path, toPath: rulesPath)
        let cluster = try PostgresTestDatabase.requiredURL()
        // What the test reads the outcome with, past the forwarder.
        let direct = try #require(PostgresTestDatabase.url)
        let forwarder = try TCPForwarder(upstreamPort: cluster.port)
        defer { forwarder.cut(.restart) }
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
        #expect(health.retryAfter == "5")
        #expect(health.body == #"{"status":"unavailable","reason":"database not connected yet"}"#)
        let first = Self.webhook()
        let refused = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: first.body, headers: first.headers)
        #expect(refused.status == 503)
        #expect(refused.retryAfter == "5")

        // The database comes: /healthz turns 200 and the same webhook is accepted. (30 s: attempts
        // are 1, 2, 4, 8 s apart, and a loaded machine adds to each.)
        try forwarder.open()
        #expect(
            try await Self.eventually(seconds: 30) { try await Self.send(port: port, path: "/healthz").status == 200 })
        #expect(await server.waitForLog("database connected"))
        let accepted = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: first.body, headers: first.headers)
        #expect(accepted.status == 200)

        // (b) The database goes away while webhooks arrive: each is answered 200 (stored before the
        // cut) or 503 with Retry-After (the sender retries), none waits for ever.
        let burst = (0..<8).map { _ in Self.webhook() }
        let answers = try await withThrowingTaskGroup(of: (Int, (status: Int, retryAfter: String?, body: String)).self)
        {
            group in
            for (index, hook) in burst.enumerated() {
                group.addTask {
                    (
                        index,
                        try await Self.send(
                            port: port, path: "/webhooks/cod-fulfillment", body: hook.body, headers: hook.headers)
                    )
                }
            }
            try await Task.sleep(for: .milliseconds(30))
            forwarder.cut(outage)
            var answers: [Int: (status: Int, retryAfter: String?, body: String)] = [:]
            for try await (index, answer) in group { answers[index] = answer }
            return answers
        }
        for answer in answers.values {
            #expect(answer.status == 200 || (answer.status == 503 && answer.retryAfter == "5"), "\(answer)")
        }
        let second = Self.webhook()
        let started = ContinuousClock.now
        let lost = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: second.body, headers: second.headers)
        #expect(lost.status == 503)
        #expect(lost.retryAfter == "5")
        #expect(ContinuousClock.now - started < .seconds(10))
        let unhealthy = try await Self.send(port: port, path: "/healthz")
        #expect(unhealthy.status == 503)
        #expect(unhealthy.retryAfter == "5")

        // It comes back: every webhook not acknowledged is sent again until it is, as its sender
        // would; the one acknowledged before the outage is there once.
        try forwarder.open()
        var pending = [second] + burst.indices.filter { !Self.acknowledged(answers[$0]!) }.map { burst[$0] }
        #expect(
            try await Self.eventually(seconds: 30) {
                var left: [(body: [UInt8], headers: [HeaderField], reference: String)] = []
                for hook in pending {
                    let answer = try await Self.send(
                        port: port, path: "/webhooks/cod-fulfillment", body: hook.body, headers: hook.headers)
                    if !Self.acknowledged(answer) { left.append(hook) }
                }
                pending = left
                return pending.isEmpty
            })
        let again = try await Self.send(
            port: port, path: "/webhooks/cod-fulfillment", body: first.body, headers: first.headers)
        #expect(again.body == #"{"status":"duplicate"}"#)
        // The processor carried on by itself: every acknowledged event has its message.
        let references = ([first, second] + burst).map(\.reference)
        var missing = references
        #expect(
            try await Self.eventually(seconds: 30) {
                let (_, listing, _) = try await HeraldProcess.run(
                    ["messages", "--rules", rulesPath, "--limit", "1000"], environment: ["HERALD_DB": direct])
                missing = references.filter { !listing.contains($0) }
                return missing.isEmpty
            }, "no message for \(missing)")
        #expect(server.stderr.contains("work resumed"))

        // (c) SIGINT while the database is away again: serve stops by itself within a few seconds
        // (exit 0; the forced exit after --drain-time, 10 s, would be 1).
        forwarder.cut(outage)
        try await Task.sleep(for: .seconds(1))
        let interrupted = ContinuousClock.now
        server.process.interrupt()
        #expect(await server.wait(seconds: 20) == 0)
        #expect(ContinuousClock.now - interrupted < .seconds(8))
        #expect(!server.stderr.contains("shutdown did not finish"))
        #expect(server.stderr.contains("postgres://\(cluster.username):•••@127.0.0.1:\(forwarder.port)"))
        #expect(!server.stderr.contains(Self.password))
        #expect(!server.stderr.contains("+212661234567"))
        #expect(server.stderr.components(separatedBy: "database unreachable, retrying").count == 2)

        // Each event stored once: the retries of the ones acknowledged during the cut were duplicates.
        let (listed, listing, _) = try await HeraldProcess.run(
            ["events", "--rules", rulesPath, "--limit", "1000"], environment: ["HERALD_DB": direct])
        #expect(listed == 0)
        for reference in references {
            #expect(listing.components(separatedBy: reference).count == 2, "\(reference)")
        }
    }
}
