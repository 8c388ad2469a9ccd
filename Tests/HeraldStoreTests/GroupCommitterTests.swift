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
}
