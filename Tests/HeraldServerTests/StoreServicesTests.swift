import Foundation
import HeraldCore
import HeraldServer
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HeraldStore

@Suite("The store's services in herald serve's service group")
struct StoreServicesTests {
    /// While the server runs, intake's writes go through the group committer's writer; at
    /// shutdown the store closes first (after the server drained), then its services stop.
    @Test func theApplicationRunsTheStoreServicesAndStopsThemAfterTheStoreCloses() async throws {
        let harness = try Harness()
        try await harness.app().test(.live) { client in
            for _ in 0..<1000 where !harness.store.committer.isRunning {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(harness.store.committer.isRunning)
            let body = Fixtures.sample("cod-fulfillment", "delivered.json")
            let (status, _) = try await client.post(
                "/webhooks/cod-fulfillment", body: body,
                headers: Fixtures.signedHeaders(provider: "cod-fulfillment", body: body))
            #expect(status == .ok)
        }
        #expect(!harness.store.committer.isRunning)
        await #expect(throws: StoreError.self) { try await harness.store.ping() }
        #expect(try await harness.storedEvents().count == 1)
    }
}
