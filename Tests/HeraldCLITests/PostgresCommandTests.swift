import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// `--db postgres://…` and `HERALD_DB` as an operator uses them, against the test cluster; the
/// URL's password never reaches a log or an error.
@Suite("herald on PostgreSQL, as processes", .enabled(if: !PostgresTestDatabase.skipped))
struct PostgresCommandTests {
    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-pg-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    let folder: URL
    static let password = "pa55-5ecret-word"
    static let notYet = "not supported on PostgreSQL yet"
    static let useDump = "for PostgreSQL use pg_dump"

    var rulesPath: String { folder.appendingPathComponent("rules.yaml").path }

    /// The test cluster's URL with a password in it (the cluster trusts local connections, so it
    /// is never checked: it is there to be kept out of the logs).
    func urlWithPassword() throws -> String {
        let url = try PostgresTestDatabase.requiredURL()
        return "postgres://\(url.username):\(Self.password)@\(url.host):\(url.port)/\(url.database)?sslmode=disable"
    }

    @Test func serveStoresOnPostgresAndLogsTheURLMasked() async throws {
        try FileManager.default.copyItem(
            atPath: Fixtures.root.appendingPathComponent("rules.yaml").path, toPath: rulesPath)
        let url = try urlWithPassword()
        let server = try HeraldProcess(
            ["serve", "--rules", rulesPath, "--port", "0", "--db", url, "--log-level", "trace"],
            environment: Fixtures.environment.values)
        defer { server.terminate() }
        #expect(await server.waitForLog("herald is listening"))
        // It listens first and connects next: webhooks answer 503 until then.
        #expect(await server.waitForLog("database connected"))
        let port = try #require(ServeCommandTests.listeningPort(in: server.stderr))
        let delivered = Fixtures.sample("cod-fulfillment", "delivered.json")
        let signed = Fixtures.signedHeaders(provider: "cod-fulfillment", body: delivered)
        let (status, _) = try await ServeCommandTests.post(
            port: port, provider: "cod-fulfillment", body: delivered, headers: signed)
        #expect(status == 200)
        server.process.interrupt()
        #expect(await server.wait(seconds: 20) == 0)
        #expect(server.stderr.contains("postgres://postgres:•••@"))
        #expect(!server.stderr.contains(Self.password))
        #expect(!server.stderr.contains("+212661234567"))

        // Every command takes the same database, from HERALD_DB too. Other suites' `herald serve`
        // processes store in this database too (the outage tests), so the listing is not limited
        // to the newest 50.
        let (listed, listing, _) = try await HeraldProcess.run(
            ["events", "--rules", rulesPath, "--limit", "100000"], environment: ["HERALD_DB": url])
        #expect(listed == 0)
        #expect(listing.contains("ORD-000129"))
    }

    @Test func anUnreachableDatabaseIsLoggedWithTheMaskedURLAndServeKeepsTrying() async throws {
        try FileManager.default.copyItem(
            atPath: Fixtures.root.appendingPathComponent("rules.yaml").path, toPath: rulesPath)
        // Port 1 on the loopback: nothing listens there.
        let url = "postgres://herald:\(Self.password)@127.0.0.1:1/herald?sslmode=disable"
        let server = try HeraldProcess(
            ["serve", "--rules", rulesPath, "--port", "0", "--db", url], environment: Fixtures.environment.values)
        defer { server.terminate() }
        #expect(await server.waitForLog("database unreachable, retrying"))
        #expect(server.process.isRunning)
        // SIGINT while it is still connecting ends it cleanly.
        server.process.interrupt()
        #expect(await server.wait(seconds: 20) == 0)
        #expect(server.stderr.contains("postgres://herald:•••@127.0.0.1:1/herald"))
        #expect(server.stderr.contains("Connection refused"))
        #expect(!server.stderr.contains(Self.password))
    }

    @Test(arguments: [
        (["backup", "--out", "copy.sqlite"], "herald backup works on the SQLite store only; \(useDump)"),
        (["prune", "--older-than", "30"], "herald prune works on the SQLite store only; \(notYet)"),
        (["forget", "+212661234567"], "herald forget works on the SQLite store only; \(notYet)"),
        (["serve", "--retention-days", "30"], "--retention-days works on the SQLite store only (\(notYet))"),
    ])
    func sqliteOnlyCommandsSaySoOnPostgres(arguments: [String], message: String) async throws {
        let (status, _, stderr) = try await HeraldProcess.run(
            arguments + ["--rules", rulesPath, "--db", try urlWithPassword()])
        #expect(status == 2)
        #expect(stderr.contains("error: \(message)"))
        #expect(!stderr.contains(Self.password))
    }
}
