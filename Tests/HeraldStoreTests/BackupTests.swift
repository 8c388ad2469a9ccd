import Foundation
import GRDB
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Synchronization
import Testing

@Suite("Online backup of the SQLite store")
struct BackupTests {
    let ruleSet: RuleSet

    init() throws {
        ruleSet = try Fixtures.shippedRuleSet()
    }

    func incoming(_ reference: String) -> IncomingEvent {
        let profile = ruleSet.provider(named: "cod-fulfillment")!
        let body = Fixtures.codPayload(reference: reference, from: "prepared", to: "out_for_delivery")
        let request = Fixtures.request(provider: "cod-fulfillment", body: body)
        return IncomingEvent(request: request, profile: profile)
    }

    /// Event ids of a database file, read through a plain SQLite connection after an integrity check.
    func checkedEventIDs(at path: String) throws -> (integrity: String, ids: Set<Int64>) {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "",
                Set(try Int64.fetchAll(db, sql: "SELECT id FROM events"))
            )
        }
    }

    @Test func aBackupTakenWhileEventsAreWrittenHoldsEveryEventCommittedBefore() async throws {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        // A few thousand events first, so the copy takes long enough for writes to land during it.
        for batch in 0..<20 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<100 { group.addTask { _ = try await store.record(incoming("ORD-P\(batch)-\(n)")) } }
                try await group.waitForAll()
            }
        }
        let committed = Mutex<[Int64]>([])
        let stop = Atomic<Bool>(false)
        let writer = Task {
            var n = 0
            while !stop.load(ordering: .relaxed) {
                if case .accepted(let summary) = try await store.record(incoming("ORD-W\(n)")) {
                    committed.withLock { $0.append(summary.id) }
                }
                n += 1
            }
        }
        while committed.withLock({ $0.count }) < 50 { try await Task.sleep(for: .milliseconds(5)) }

        let before = Set(try await store.events(EventQuery(limit: 100_000)).map(\.id))
        let out = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("copy.sqlite").path
        let duringStart = committed.withLock { $0.count }
        // On a thread of its own: VACUUM INTO blocks, and the test's tasks share the cooperative pool.
        let summary = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try SQLiteStore.backup(databaseAt: path, to: out) })
            }
        }
        let duringEnd = committed.withLock { $0.count }
        stop.store(true, ordering: .relaxed)
        try await writer.value
        let all = Set(try await store.events(EventQuery(limit: 100_000)).map(\.id))
        try await store.close()

        let copy = try checkedEventIDs(at: out)
        #expect(copy.integrity == "ok")
        #expect(before.isSubset(of: copy.ids), "\(before.subtracting(copy.ids).count) committed events missing")
        #expect(copy.ids.isSubset(of: all))
        #expect(summary.events == copy.ids.count)
        #expect(summary.bytes > 0)
        print(
            "backup: \(before.count) events committed before it started, \(copy.ids.count) in the copy, "
                + "\(duringEnd - duringStart) committed while it ran, \(all.count) in all; \(summary.bytes) bytes")

        // The copy is a working store: Herald opens it as it would after a restore.
        let restored = try SQLiteStore(path: out)
        #expect(try await restored.events(EventQuery(limit: 100_000)).count == copy.ids.count)
        try await restored.close()
    }

    @Test func anExistingDestinationIsKeptUnlessReplacing() async throws {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        _ = try await store.record(incoming("ORD-1"))
        try await store.close()
        let out = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("copy.sqlite").path
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: out))

        #expect(throws: BackupError.self) { try SQLiteStore.backup(databaseAt: path, to: out) }
        do {
            _ = try SQLiteStore.backup(databaseAt: path, to: out)
        } catch {
            #expect(error.code == .destinationExists)
            #expect(error.description == "\(out): error: already exists (pass --force to replace it)")
        }
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me")

        let summary = try SQLiteStore.backup(databaseAt: path, to: out, replacing: true)
        #expect(summary.events == 1)
        #expect(try checkedEventIDs(at: out).integrity == "ok")
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: URL(fileURLWithPath: out).deletingLastPathComponent().path
        )
        .filter { $0.contains("partial") }
        #expect(leftovers.isEmpty)
    }
}
