import Foundation
import Synchronization
import Testing

@testable import HeraldStore

@Suite("Group commit")
struct GroupCommitterTests {
    /// The batches a committer wrote, each as it got it.
    final class Batches: Sendable {
        let written = Mutex<[[Int]]>([])
    }

    func committer(_ batches: Batches) -> GroupCommitter<Int, Int> {
        GroupCommitter { inputs in
            batches.written.withLock { $0.append(inputs) }
            try await Task.sleep(for: .milliseconds(5))
            return inputs.map { $0 * 2 }
        }
    }

    func submitConcurrently(_ committer: GroupCommitter<Int, Int>, count: Int) async throws -> [Int: Int] {
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for n in 0..<count { group.addTask { (n, try await committer.submit(n)) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    /// CLI commands and tests run no services: every caller writes alone, in its own task.
    @Test func withoutItsWriterEachSubmissionIsWrittenAlone() async throws {
        let batches = Batches()
        let committer = committer(batches)
        let outputs = try await submitConcurrently(committer, count: 20)
        #expect(outputs == Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, $0 * 2) }))
        #expect(batches.written.withLock { $0.map(\.count) } == Array(repeating: 1, count: 20))
        await committer.drain()
    }

    /// With its writer running, callers that arrive during a write share the next batch; once it
    /// has stopped, callers write alone again.
    @Test func itsWriterGroupsConcurrentSubmissionsUntilItStops() async throws {
        let batches = Batches()
        let committer = committer(batches)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await committer.run() }
            while !committer.isRunning { try await Task.sleep(for: .milliseconds(1)) }
            let outputs = try await submitConcurrently(committer, count: 50)
            #expect(outputs.count == 50)
            #expect(outputs.allSatisfy { $0.value == $0.key * 2 })
            #expect(batches.written.withLock { $0.count } < 50)
            #expect(batches.written.withLock { $0.flatMap { $0 }.sorted() } == Array(0..<50))
            group.cancelAll()
        }
        #expect(!committer.isRunning)
        let before = batches.written.withLock { $0.count }
        #expect(try await committer.submit(7) == 14)
        #expect(batches.written.withLock { $0.count } == before + 1)
    }

    /// A database with concurrent writers (PostgreSQL) has up to `concurrentBatches` batches
    /// written at once, never more, and every caller still gets its own output.
    @Test func concurrentBatchesOverlapUpToTheirLimit() async throws {
        let overlap = Mutex((now: 0, most: 0))
        let committer = GroupCommitter<Int, Int>(concurrentBatches: 3) { inputs in
            overlap.withLock { overlap in
                overlap.now += 1
                overlap.most = max(overlap.most, overlap.now)
            }
            // The first batch waits (5 s at most) for the next one to start beside it.
            if inputs == [0] {
                for _ in 0..<5000 where overlap.withLock({ $0.most }) < 2 {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            try await Task.sleep(for: .milliseconds(5))
            overlap.withLock { $0.now -= 1 }
            return inputs.map { $0 * 2 }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await committer.run() }
            while !committer.isRunning { try await Task.sleep(for: .milliseconds(1)) }
            async let first = committer.submit(0)
            while overlap.withLock({ $0.now }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
            let outputs = try await withThrowingTaskGroup(of: (Int, Int).self) { submissions in
                for n in 1..<200 { submissions.addTask { (n, try await committer.submit(n)) } }
                return try await submissions.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(try await first == 0)
            #expect(outputs == Dictionary(uniqueKeysWithValues: (1..<200).map { ($0, $0 * 2) }))
            group.cancelAll()
        }
        let most = overlap.withLock { $0.most }
        #expect(most > 1)
        #expect(most <= 3)
    }

    /// A batch that fails fails each of its callers (none is acknowledged), and the callers queued
    /// behind it are still written: the failing batch's caller hands its slot on all the same.
    @Test func aFailedBatchFailsItsCallersAndTheNextBatchIsWritten() async throws {
        struct Refused: Error {}
        let started = Mutex(false)
        let committer = GroupCommitter<Int, Int> { inputs in
            if inputs.contains(0) {
                started.withLock { $0 = true }
                try await Task.sleep(for: .milliseconds(20))
                throw Refused()
            }
            return inputs.map { $0 * 2 }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await committer.run() }
            while !committer.isRunning { try await Task.sleep(for: .milliseconds(1)) }
            async let first = committer.submit(0)
            while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
            let outputs = try await withThrowingTaskGroup(of: (Int, Int).self) { submissions in
                for n in 1..<30 { submissions.addTask { (n, try await committer.submit(n)) } }
                return try await submissions.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            var refused = false
            do { _ = try await first } catch is Refused { refused = true }
            #expect(refused)
            #expect(outputs == Dictionary(uniqueKeysWithValues: (1..<30).map { ($0, $0 * 2) }))
            group.cancelAll()
        }
        await committer.drain()
    }
}
