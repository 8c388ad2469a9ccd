import Foundation
import HeraldCore
import Synchronization

/// The pacing of a `StoreConnection`'s store, once connected: until then a send cannot be paced
/// (nor recorded), and waits in the queue.
final class ConnectedPacer: SendPacing {
    private let connection: StoreConnection
    private let limits: [String: PacingLimits]
    private let pacer = Mutex<(any SendPacing)?>(nil)

    init(connection: StoreConnection, limits: [String: PacingLimits]) {
        self.connection = connection
        self.limits = limits
    }

    func reserve(channel: String, recipient: String, now: Date, bookingWithin maxWait: TimeInterval) async throws
        -> Date
    {
        let store = try connection.connected()
        let shared = try pacer.withLock { pacer -> any SendPacing in
            if let pacer { return pacer }
            // A store reached over the network is shared by instances, so it paces in its database.
            guard let made = store.sharedPacer(limits: limits) else {
                throw StoreError("the connected store keeps no pacing")
            }
            pacer = made
            return made
        }
        return try await shared.reserve(channel: channel, recipient: recipient, now: now, bookingWithin: maxWait)
    }
}
