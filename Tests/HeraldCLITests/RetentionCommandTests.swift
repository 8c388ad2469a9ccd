import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Logging
import Testing

@Suite("herald prune and herald forget, as processes")
struct RetentionCommandTests {
    let rules = Fixtures.root.appendingPathComponent("rules.yaml").path
    let templates = Fixtures.root.appendingPathComponent("templates").path

    /// A store with one order delivered 40 days ago (its SMS sent) and one today (pending), both
    /// for +212661234567; 12:00 UTC, so no quiet hours.
    func storeWithOldAndNewOrders() async throws -> String {
        let db = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: db)
        let ruleSet = try Fixtures.shippedRuleSet()
        let profile = try #require(ruleSet.provider(named: "cod-fulfillment"))
        let noon = Calendar(identifier: .gregorian).startOfDay(for: Date()).addingTimeInterval(12 * 3600)
        for (reference, date) in [("OLD-1", noon.addingTimeInterval(-40 * 86_400)), ("NEW-1", noon)] {
            let request = Fixtures.request(
                provider: "cod-fulfillment",
                body: Fixtures.codPayload(
                    reference: reference, from: "out_for_delivery", to: "delivered", timestamp: Timestamp.format(date)),
                receivedAt: date)
            _ = try await store.record(
                IncomingEvent(request: request, profile: profile))
            let processor = EventProcessor(
                ruleSet: ruleSet, templates: try TemplateStore.load(path: templates), store: store,
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, clock: { date })
            try await processor.processPending()
        }
        for message in try await store.messages(MessageQuery(orderReference: "OLD-1")) {
            try await store.record(DeliveryUpdate(state: .sent), messageID: message.id, at: Date())
        }
        try await store.close()
        return db
    }

    @Test func pruneDeletesWhatIsOlderAndDryRunDeletesNothing() async throws {
        let db = try await storeWithOldAndNewOrders()
        let prune = ["prune", "--rules", rules, "--db", db, "--older-than", "30"]
        var (status, stdout, stderr) = try await HeraldProcess.run(prune + ["--dry-run"])
        #expect(status == 0, "\(stderr)")
        #expect(stdout.hasPrefix("would prune 1 events, 1 messages older than 30 days (before "))
        (status, stdout, _) = try await HeraldProcess.run(prune + ["--dry-run"])
        #expect(stdout.hasPrefix("would prune 1 events, 1 messages"))  // the dry run changed nothing
        (status, stdout, _) = try await HeraldProcess.run(prune)
        #expect(status == 0)
        #expect(stdout.hasPrefix("pruned 1 events, 1 messages older than 30 days (before "))
        (status, stdout, _) = try await HeraldProcess.run(prune)
        #expect(stdout.hasPrefix("pruned 0 events, 0 messages"))
        let (_, messages, _) = try await HeraldProcess.run(["messages", "--db", db])
        #expect(messages.contains("NEW-1") && !messages.contains("OLD-1"))
        // The pruned event's row stays (its dedupe key), without its body.
        let (_, events, _) = try await HeraldProcess.run(["events", "--db", db])
        let old = events.split(separator: "\n").first { $0.contains("OLD-1") } ?? ""
        #expect(old.hasSuffix("body deleted (prune or forget)"))
    }

    @Test(arguments: ["0", "-3", "thirty", "1.5"])
    func pruneRefusesADaysThatIsNotAPositiveWholeNumber(days: String) async throws {
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["prune", "--db", Fixtures.temporaryDatabasePath(), "--older-than=\(days)"])
        #expect(status == 2)
        #expect(stderr.contains("--older-than must be a whole number of days"))
        #expect(stdout.isEmpty)
    }

    /// `serve --retention-days` prunes at start, in the service group, and logs counts only.
    @Test func servePrunesAtStartWithRetentionDays() async throws {
        let db = try await storeWithOldAndNewOrders()
        let server = try HeraldProcess(
            ["serve", "--rules", rules, "--templates", templates, "--db", db, "--port", "0", "--retention-days", "30"],
            environment: Fixtures.environment.values)
        defer { server.terminate() }
        #expect(await server.waitForLog("retention: pruned"))
        let line = server.stderr.split(separator: "\n").first { $0.contains("retention: pruned") } ?? ""
        #expect(line.contains("herald.events=1") && line.contains("herald.messages=1"))
        server.process.interrupt()
        #expect(await server.wait(seconds: 20) == 0)
        #expect(!server.stderr.contains("212661234567"))
        let (status, _, stderr) = try await HeraldProcess.run(["serve", "--db", db, "--retention-days", "0"])
        #expect(status == 2)
        #expect(stderr.contains("--retention-days must be a whole number of days"))
    }

    @Test func withoutAStoreBothSaySoAndExit1() async throws {
        let db = Fixtures.temporaryDatabasePath()
        for arguments in [["prune", "--older-than", "30"], ["forget", "+212661234567"]] {
            let (status, _, stderr) = try await HeraldProcess.run(arguments + ["--rules", rules, "--db", db])
            #expect(status == 1)
            #expect(stderr.contains("no store here"))
        }
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func forgetRedactsTheNumberAndKeepsItsOptOutAsAHash() async throws {
        let db = try await storeWithOldAndNewOrders()
        _ = try await HeraldProcess.run(["suppressions", "--rules", rules, "--db", db, "add", "+212661234567"])
        // National, as the rules' defaults.country (MA) reads it.
        var (status, stdout, stderr) = try await HeraldProcess.run(
            ["forget", "--rules", rules, "--db", db, "0661234567"])
        #expect(status == 0, "\(stderr)")
        #expect(stdout == "forgot +212••••••567: 2 events, 2 messages redacted, 1 suppressions kept as a hash\n")
        (status, stdout, _) = try await HeraldProcess.run(["suppressions", "--rules", rules, "--db", db, "list"])
        #expect(status == 0)
        #expect(stdout.contains("(forgotten, hash ") && stdout.contains("operator"))
        (_, stdout, _) = try await HeraldProcess.run(["messages", "--db", db])
        #expect(!stdout.contains("Karim") && stdout.contains("suppressed"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(bytes.range(of: Data("212661234567".utf8)) == nil)
    }

    @Test(arguments: [
        ("06 61 AB 45 67", "the phone number has letters in it"),
        ("0522123456", "fixed line, cannot receive SMS"),
    ])
    func forgetRefusesABadNumber(number: String, message: String) async throws {
        let db = try await storeWithOldAndNewOrders()
        let (status, stdout, stderr) = try await HeraldProcess.run(["forget", "--rules", rules, "--db", db, number])
        #expect(status == 2)
        #expect(stderr.contains(message), "\(stderr)")
        #expect(stdout.isEmpty)
    }
}
