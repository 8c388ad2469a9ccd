import Foundation
import HeraldTestSupport
import Testing

@testable import HeraldStore

/// `herald copy --from FILE.sqlite --to postgres://…` as an operator runs it (what it copies is
/// `StoreCopyTests`' subject); the URL's password never reaches the output.
@Suite("herald copy, as processes", .enabled(if: !PostgresTestDatabase.skipped))
struct CopyCommandTests {
    let folder: URL
    static let password = PostgresCommandTests.password

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-copy-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// The test cluster's database `database`, with a password in the URL (never checked: the
    /// cluster trusts local connections).
    func url(database: String? = nil) throws -> String {
        let url = try PostgresTestDatabase.requiredURL()
        let name = database ?? url.database
        return "postgres://\(url.username):\(Self.password)@\(url.host):\(url.port)/\(name)?sslmode=disable"
    }

    /// An empty Herald SQLite store.
    func emptySource() async throws -> String {
        let path = folder.appendingPathComponent("herald.sqlite").path
        try await SQLiteStore(path: path).close()
        return path
    }

    @Test func copiesIntoAnEmptyDatabaseAndPrintsTheCountsWithTheURLMasked() async throws {
        let source = try await emptySource()
        let admin = try await PostgresTestDatabase.open(schema: "public")
        let database = "herald_copy_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin.client.query("CREATE DATABASE \(unescaped: database)", logger: admin.logger)
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["copy", "--from", source, "--to", try url(database: database)])
        _ = try? await admin.client.query("DROP DATABASE \(unescaped: database)", logger: admin.logger)
        try await admin.close()
        #expect(status == 0, "\(stderr)")
        #expect(
            stdout.contains(
                "copied 0 events, 0 orders, 0 messages, 0 suppressions, 0 settings, 0 pruned keys, 0 receipts"
                    + " to postgres://"))
        #expect(stdout.contains(":•••@"))
        #expect(!(stdout + stderr).contains(Self.password))
    }

    @Test func aDatabaseWithDataIsRefused() async throws {
        let source = try await emptySource()
        let shared = try await PostgresTestDatabase.open(schema: "public")
        try await shared.addSuppression(
            Suppression(number: "+212600000009", reason: "test", source: .operator, createdAt: Date()))
        try await shared.close()
        let (status, _, stderr) = try await HeraldProcess.run(["copy", "--from", source, "--to", try url()])
        #expect(status == 1)
        #expect(stderr.contains("error: the target database is not empty ("))
        #expect(stderr.contains("); copy into an empty database"))
        #expect(!stderr.contains(Self.password))
    }

    @Test func aMissingSourceIsRefused() async throws {
        let missing = folder.appendingPathComponent("nowhere.sqlite").path
        let (status, _, stderr) = try await HeraldProcess.run(["copy", "--from", missing, "--to", try url()])
        #expect(status == 1)
        #expect(stderr.contains("\(missing): error: no such file"))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}
