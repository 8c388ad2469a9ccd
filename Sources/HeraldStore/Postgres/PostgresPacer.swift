import Crypto
import Foundation
import HeraldCore
import Logging
import PostgresNIO
import Synchronization

/// Pacing shared by every instance on the database: each channel's next free slot and each
/// recipient's last send are rows of `pacing`, locked while one send is decided
/// (`PacingDecision`), so `rate` and `recipient_interval` hold across instances as they do in one.
///
/// Recipients are keyed by a SHA-256 of channel and number, never the number: the table outlives
/// messages (`herald forget` does not look here), and rows an hour past are deleted as it goes.
final class PostgresPacer: SendPacing {
    private let client: PostgresClient
    /// How long each statement may take (the store's `operationTimeout`).
    private let timeout: Duration
    private let logger: Logger
    private let limits: [String: PacingLimits]
    /// When old recipient rows were last deleted (once a minute at most).
    private let lastCleanup = Mutex<Date>(.distantPast)

    init(client: PostgresClient, timeout: Duration, logger: Logger, limits: [String: PacingLimits]) {
        self.client = client
        self.timeout = timeout
        self.logger = logger
        self.limits = limits
    }

    func reserve(channel: String, recipient: String, now: Date, bookingWithin maxWait: TimeInterval) async throws
        -> Date
    {
        guard let limit = limits[channel], limit.paces else { return now }
        let channelKey = "rate:" + channel
        let pairKey = "pair:" + Hex.encode(SHA256.hash(data: Array((channel + "\u{1F}" + recipient).utf8)))
        let keys = [channelKey, pairKey]
        let logger = self.logger
        let at = try await PostgresStore.transaction(client, limit: timeout, logger: logger) { connection in
            // Rows first (a key never seen has none to lock), then both locked in one order.
            try await connection.query(
                """
                INSERT INTO pacing (key, booked_at) SELECT k, 0 FROM unnest(\(keys)::text[]) AS k
                ON CONFLICT (key) DO NOTHING
                """, logger: logger)
            var booked: [String: Double] = [:]
            for row in try await connection.query(
                "SELECT key, booked_at FROM pacing WHERE key = ANY(\(keys)::text[]) ORDER BY key FOR UPDATE",
                logger: logger
            ) {
                let (key, value) = try row.decode((String, Double).self)
                booked[key] = value
            }
            let stored = { (key: String) in booked[key].flatMap { $0 > 0 ? Date(timeIntervalSince1970: $0) : nil } }
            let decision = PacingDecision.decide(
                limit, nextSlot: stored(channelKey), lastToRecipient: stored(pairKey), now: now, maxWait: maxWait)
            for (key, value) in [(channelKey, decision.nextSlot), (pairKey, decision.lastToRecipient)] {
                guard let value else { continue }
                let at = value.timeIntervalSince1970
                try await connection.query("UPDATE pacing SET booked_at = \(at) WHERE key = \(key)", logger: logger)
            }
            return decision.at
        }
        try await deleteOldRecipients(now: now)
        return at
    }

    /// Recipients' rows older than an hour (no interval is that long) are deleted, at most once a minute.
    private func deleteOldRecipients(now: Date) async throws {
        let due = lastCleanup.withLock { last in
            guard now.timeIntervalSince(last) >= 60 else { return false }
            last = now
            return true
        }
        guard due else { return }
        let before = now.timeIntervalSince1970 - 3600
        let logger = logger
        _ = try await PostgresStore.withConnection(client, limit: timeout) { connection in
            try await connection.query(
                "DELETE FROM pacing WHERE key LIKE 'pair:%' AND booked_at < \(before)", logger: logger)
        }
    }
}

extension PostgresStore {
    /// Pacing in the database, shared by every instance using it.
    public func sharedPacer(limits: [String: PacingLimits]) -> (any SendPacing)? {
        PostgresPacer(client: client, timeout: operationTimeout, logger: logger, limits: limits)
    }
}
