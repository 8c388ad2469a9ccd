import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Synchronization
import Testing

@Suite("herald backup, as a process")
struct BackupCommandTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Fixtures.root.appendingPathComponent("rules.yaml").path, toPath: rulesPath)
    }

    var rulesPath: String { folder.appendingPathComponent("rules.yaml").path }
    var databasePath: String { folder.appendingPathComponent("herald.sqlite").path }
    var environment: [String: String] { Fixtures.environment.values }

    /// The order references of the events in a database file.
    func references(in path: String) async throws -> Set<String> {
        let store = try SQLiteStore(path: path)
        let events = try await store.events(EventQuery(limit: 100_000))
        try await store.close()
        return Set(events.compactMap(\.orderReference))
    }

    @Test func aBackupOfARunningServerHoldsEveryWebhookAcknowledgedBeforeIt() async throws {
        let server = try HeraldProcess(["serve", "--rules", rulesPath, "--port", "0"], environment: environment)
        defer { server.terminate() }
        #expect(await server.waitForLog("herald is listening"))
        let port = try #require(ServeCommandTests.listeningPort(in: server.stderr))

        let acknowledged = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
        let sender = Task {
            var n = 0
            while !stop.load(ordering: .relaxed) {
                let reference = "ORD-B\(n)"
                let body = Fixtures.codPayload(reference: reference, from: "prepared", to: "out_for_delivery")
                let headers = Fixtures.signedHeaders(provider: "cod-fulfillment", body: body)
                let (status, _) = try await ServeCommandTests.post(
                    port: port, provider: "cod-fulfillment", body: body, headers: headers)
                if status == 200 { acknowledged.withLock { $0.append(reference) } }
                n += 1
            }
        }
        while acknowledged.withLock({ $0.count }) < 30 { try await Task.sleep(for: .milliseconds(10)) }

        let before = Set(acknowledged.withLock { $0 })
        let out = folder.appendingPathComponent("backup.sqlite").path
        let (status, stdout, stderr) = try await HeraldProcess.run(["backup", "--rules", rulesPath, "--out", out])
        let after = acknowledged.withLock { $0.count }
        stop.store(true, ordering: .relaxed)
        try await sender.value
        server.process.terminate()
        #expect(await server.wait(seconds: 20) == 0)

        #expect(status == 0, "\(stderr)")
        #expect(stdout.hasPrefix("backed up "))
        #expect(stdout.contains(" to \(out) ("))
        let copied = try await references(in: out)
        #expect(before.isSubset(of: copied), "\(before.subtracting(copied).sorted()) acknowledged but not in the copy")
        #expect(stdout.hasPrefix("backed up \(copied.count) events, "))
        print(
            "backup of a running server: \(before.count) acknowledged before, \(after) by its end, \(copied.count) copied"
        )
    }

    @Test func anExistingOutIsRefusedUnlessForced() async throws {
        let store = try SQLiteStore(path: databasePath)
        try await store.close()
        let out = folder.appendingPathComponent("backup.sqlite").path
        try Data("yesterday's backup".utf8).write(to: URL(fileURLWithPath: out))

        let (status, stdout, stderr) = try await HeraldProcess.run(["backup", "--rules", rulesPath, "--out", out])
        #expect(status == 1)
        #expect(stdout.isEmpty)
        #expect(stderr == "\(out): error: already exists (pass --force to replace it)\n")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "yesterday's backup")

        let (forced, forcedOut, _) = try await HeraldProcess.run([
            "backup", "--rules", rulesPath, "--out", out, "--force",
        ])
        #expect(forced == 0)
        #expect(forcedOut.hasPrefix("backed up 0 events, 0 messages to \(out) ("))
    }

    @Test func aMissingStoreADirectoryAsDbOrAMissingOutFolderSaysSo() async throws {
        let out = folder.appendingPathComponent("backup.sqlite").path
        let (missing, _, missingErr) = try await HeraldProcess.run(["backup", "--rules", rulesPath, "--out", out])
        #expect(missing == 1)
        #expect(missingErr.contains("\(databasePath): error: no store here (run herald serve first, or pass --db)"))

        let directory = folder.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (status, _, stderr) = try await HeraldProcess.run(["backup", "--db", directory, "--out", out])
        #expect(status == 1)
        #expect(stderr.contains("\(directory): error: cannot open the store: it is a directory, not an SQLite file"))
        #expect(!FileManager.default.fileExists(atPath: out))

        try await SQLiteStore(path: databasePath).close()
        let nowhere = folder.appendingPathComponent("missing/backup.sqlite").path
        let (noFolder, _, noFolderErr) = try await HeraldProcess.run(["backup", "--rules", rulesPath, "--out", nowhere])
        #expect(noFolder == 1)
        #expect(
            noFolderErr
                == "\(nowhere): error: the folder \(folder.appendingPathComponent("missing").path) does not exist\n")
    }
}
