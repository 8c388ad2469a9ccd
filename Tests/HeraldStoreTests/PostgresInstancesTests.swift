import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Several instances on one PostgreSQL database (each a `PostgresStore` of its own, on its own
/// connections): claims on events, takeover after a lease, notices between instances, pacing.
@Suite("PostgreSQL: several instances")
struct PostgresInstancesTests {
    typealias F = ContractFixtures

    /// Two processors claiming at once: every event is claimed once, and none while an earlier
    /// event of its order is still waiting (each checks, at the moment it holds an event, that the
    /// order's earlier ones are processed).
    @Test func twoProcessorsTakeEachEventOnceAndAnOrdersEventsInTurn() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let one = try await PostgresTestDatabase.open(schema: schema)
        let two = try await PostgresTestDatabase.open(schema: schema)
        let statuses = ["confirmed", "shipped", "out_for_delivery", "delivered"]
        var expected: [Int64] = []
        for order in 0..<8 {
            for (from, to) in zip(statuses, statuses.dropFirst()) {
                let store = order % 2 == 0 ? one : two
                expected.append(try await F.recordedEventID(store, reference: "ORD-\(order)", from: from, to: to))
            }
        }
        func process(_ store: PostgresStore) async throws -> (claimed: [Int64], outOfTurn: [Int64]) {
            var claimed: [Int64] = []
            var outOfTurn: [Int64] = []
            var idle = 0
            while idle < 20 {
                let batch = try await store.claimEvents(now: Date(), limit: 3, lease: 60)
                if batch.isEmpty {
                    idle += 1
                    try await Task.sleep(for: .milliseconds(10))
                    continue
                }
                idle = 0
                for event in batch {
                    let earlier = try await store.events(EventQuery(limit: 100)).filter {
                        $0.orderReference == event.orderReference && $0.id < event.id
                    }
                    if earlier.contains(where: { $0.processedAt == nil }) { outOfTurn.append(event.id) }
                }
                claimed += batch.map(\.id)
                _ = try await store.completeProcessing(batch.map { ($0.id, []) }, at: Date())
            }
            return (claimed, outOfTurn)
        }
        async let fromOne = process(one)
        async let fromTwo = process(two)
        let (a, b) = try await (fromOne, fromTwo)
        #expect(Set(a.claimed).isDisjoint(with: b.claimed))
        #expect((a.claimed + b.claimed).sorted() == expected)
        #expect(a.outOfTurn.isEmpty && b.outOfTurn.isEmpty)
        #expect(!a.claimed.isEmpty && !b.claimed.isEmpty, "both instances took a share")
        try await one.close()
        try await two.close()
    }

    /// An instance that claimed events and died holds them until its lease ends; then another
    /// instance takes them over, and the order's later event waits for them meanwhile.
    @Test func aDeadInstancesEventsAreTakenOverWhenTheLeaseEnds() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let dead = try await PostgresTestDatabase.open(schema: schema)
        let alive = try await PostgresTestDatabase.open(schema: schema)
        let first = try await F.recordedEventID(dead, reference: "ORD-1", from: "confirmed", to: "shipped")
        let second = try await F.recordedEventID(alive, reference: "ORD-1", from: "shipped", to: "delivered")
        #expect(try await dead.claimEvents(now: F.now, limit: 10, lease: 60).map(\.id) == [first])
        try await dead.close()
        #expect(try await alive.claimEvents(now: F.now + 59, limit: 10, lease: 60).isEmpty)
        #expect(try await alive.claimEvents(now: F.now + 61, limit: 10, lease: 60).map(\.id) == [first])
        try await alive.completeProcessing(eventID: first, messages: [], at: F.now + 62)
        #expect(try await alive.claimEvents(now: F.now + 62, limit: 10, lease: 60).map(\.id) == [second])
        try await alive.close()
    }

    /// A message an instance was sending when it died comes back to another instance when the
    /// lease ends, as recovered: its outcome unknown, never sent blindly again (the dispatcher
    /// makes it `unknown`, for a lookup or a receipt to settle).
    @Test func aMessageLeftMidSendIsTakenOverAsRecovered() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let dead = try await PostgresTestDatabase.open(schema: schema)
        let alive = try await PostgresTestDatabase.open(schema: schema)
        let eventID = try await F.recordedEventID(dead)
        try await dead.completeProcessing(eventID: eventID, messages: [F.message("k1", eventID: eventID)], at: F.now)
        #expect(try await dead.claimDue(now: F.now, limit: 10, lease: 60).map(\.recovered) == [false])
        try await dead.close()
        #expect(try await alive.claimDue(now: F.now + 30, limit: 10, lease: 60).isEmpty)
        let taken = try await alive.claimDue(now: F.now + 61, limit: 10, lease: 60)
        #expect(taken.map(\.message.idempotencyKey) == ["k1"])
        #expect(taken.map(\.recovered) == [true])
        try await alive.close()
    }

    /// Events one instance records and messages it queues wake the other's loops (NOTIFY on
    /// commit, heard by the listener among the store's services).
    @Test func anotherInstancesWorkIsHeardAtOnce() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let listening = try await PostgresTestDatabase.open(schema: schema)
        let writing = try await PostgresTestDatabase.open(schema: schema)
        let (changes, heard) = AsyncStream.makeStream(of: StoreChange.self)
        listening.observeChanges { heard.yield($0) }
        let group = ServiceGroup(
            configuration: .init(services: listening.services.map { .init(service: $0) }, logger: Logger(label: "t")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = changes.makeAsyncIterator()
            // On connecting, the listener wakes both loops (whatever was missed is found by polling).
            let onConnect = [await iterator.next(), await iterator.next()]
            #expect(Set(onConnect.compactMap { $0 }) == [.eventsRecorded, .messagesQueued])
            let eventID = try await F.recordedEventID(writing)
            #expect(await iterator.next() == .eventsRecorded)
            try await writing.completeProcessing(
                eventID: eventID, messages: [F.message("k1", eventID: eventID)], at: F.now)
            let queued = await iterator.next()
            #expect(queued == .messagesQueued)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await listening.close()
        try await writing.close()
    }

    /// `rate` holds across instances: two instances booking sends on one channel get slots spaced
    /// as one instance's would be; `recipient_interval` likewise for one recipient.
    @Test func pacingIsSharedByTheInstances() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let one = try await PostgresTestDatabase.open(schema: schema)
        let two = try await PostgresTestDatabase.open(schema: schema)
        let limits = ["sms": PacingLimits(rate: 4), "whatsapp": PacingLimits(recipientInterval: 6)]
        let pacers = [try #require(one.sharedPacer(limits: limits)), try #require(two.sharedPacer(limits: limits))]
        var slots: [TimeInterval] = []
        for n in 0..<6 {
            let slot = try await pacers[n % 2].reserve(
                channel: "sms", recipient: "+21266123456\(n)", now: F.now, bookingWithin: .infinity)
            slots.append(slot.timeIntervalSince(F.now))
        }
        #expect(slots == [0, 0.25, 0.5, 0.75, 1.0, 1.25])
        let to = "+212661234567"
        #expect(try await pacers[0].reserve(channel: "whatsapp", recipient: to, now: F.now, bookingWithin: 1) == F.now)
        // Too far away (6 s): returned, not booked, so the message that comes back for it finds it free.
        let later = try await pacers[1].reserve(channel: "whatsapp", recipient: to, now: F.now + 1, bookingWithin: 1)
        #expect(later == F.now + 6)
        #expect(try await pacers[1].reserve(channel: "whatsapp", recipient: to, now: later, bookingWithin: 1) == later)
        #expect(
            try await pacers[0].reserve(channel: "whatsapp", recipient: "+9613123456", now: F.now + 1, bookingWithin: 1)
                == F.now + 1)
        // Channels without limits are not paced (nor touch the database).
        #expect(try await pacers[0].reserve(channel: "gateway", recipient: to, now: F.now, bookingWithin: 1) == F.now)
        try await one.close()
        try await two.close()
    }
}
