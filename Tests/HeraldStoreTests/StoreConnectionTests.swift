import Foundation
import HeraldTestSupport
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import HeraldStore

/// `StoreConnection`: the store `herald serve` starts with while its database is away.
@Suite("Store connection")
struct StoreConnectionTests {
    final class Attempts: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test func itAnswersNotConnectedUntilAnAttemptSucceedsAndLogsTheOutageOnce() async throws {
        let recorder = LogRecorder()
        let attempts = Attempts()
        let connection = StoreConnection(
            name: "postgres://herald:•••@db/herald", logger: recorder.logger(), firstDelay: .milliseconds(10)
        ) {
            // Refused twice (10 ms, then 20 ms later), then connected.
            if attempts.count.add(1, ordering: .relaxed).newValue < 3 { throw StoreError("Connection refused") }
            return InMemoryStore()
        }
        #expect(throws: StoreError.notConnected) { try connection.connected() }
        await #expect(throws: StoreError.notConnected) { try await connection.ping() }
        await #expect(throws: StoreError.notConnected) { _ = try await connection.unprocessedEvents(limit: 1) }

        try await withThrowingTaskGroup { group in
            group.addTask { try await connection.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while !connection.isConnected, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(connection.isConnected)
            try await connection.ping()
            #expect(try await connection.unprocessedEvents(limit: 1).isEmpty)
            try await connection.close()
            group.cancelAll()
        }
        await #expect(throws: StoreError.closed) { try await connection.ping() }
        #expect(attempts.count.load(ordering: .relaxed) == 3)
        let lines = recorder.text.split(separator: "\n")
        #expect(lines.filter { $0.contains("database unreachable, retrying") }.count == 1)
        #expect(lines.contains { $0.contains("database unreachable, retrying") && $0.contains("Connection refused") })
        #expect(lines.filter { $0.contains("database connected") }.count == 1)
    }

    @Test func closingWhileConnectingEndsTheAttempts() async throws {
        let connection = StoreConnection(name: "db", logger: Logger(label: "test")) {
            throw StoreError("Connection refused")
        }
        try await connection.close()
        try await connection.run()  // returns at once: closed
        await #expect(throws: StoreError.closed) { try await connection.ping() }
    }
}
