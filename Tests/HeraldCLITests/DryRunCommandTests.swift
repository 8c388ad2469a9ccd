import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

@Suite("herald dry-run and herald export, as processes")
struct DryRunCommandTests {
    let root = Fixtures.root
    var rules: String { root.appendingPathComponent("rules.yaml").path }
    var templates: String { root.appendingPathComponent("templates").path }
    /// The documented test secrets of samples/README.md, and channel credentials (any value: dry-run
    /// sends nothing), so that messages show as sent rather than held.
    let environment = Fixtures.environment.values.merging(DryRunCommandTests.channelCredentials) { $1 }
        .merging(["MERCHANT_PHONE": "+22236000000"]) { $1 }
    static let channelCredentials = [
        "TWILIO_ACCOUNT_SID": "AC0123456789abcdef", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+15005550006",
        "WA_PHONE_NUMBER_ID": "1", "WA_TOKEN": "w",
    ]

    func dryRun(_ arguments: [String], environment: [String: String]? = nil) async throws -> (Int32?, String, String) {
        try await HeraldProcess.run(
            ["dry-run", "--rules", rules, "--templates", templates] + arguments, environment: environment ?? self.environment)
    }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-dry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The JSON Lines of `samples/` against `Golden/samples.jsonl` (HERALD_UPDATE_GOLDEN=1 rewrites it).
    @Test func samplesMatchTheGoldenJSONLines() async throws {
        let (status, stdout, stderr) = try await dryRun(
            ["--format", "json", "--now", "2026-05-10T12:00:00Z", root.appendingPathComponent("samples").path])
        // Exit 1: Wakilni sends no customer and the shipped rules do not enrich it, so its three
        // messages would fail ("recipient: the event has no customer.phone"), as in the worker.
        #expect(status == 1, "\(stderr)")
        let lines = stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 30)
        for line in lines {
            #expect((try? JSONParser.parse(Array(line.utf8))) != nil, "not JSON: \(line)")
        }
        // Paths in the golden file are relative to the repository.
        let relative = lines.map { $0.replacingOccurrences(of: root.path + "/", with: "") }.joined(separator: "\n") + "\n"
        let golden = root.appendingPathComponent("Tests/HeraldCLITests/Golden/samples.jsonl")
        if ProcessInfo.processInfo.environment["HERALD_UPDATE_GOLDEN"] == "1" {
            try relative.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        let actualLines = relative.split(separator: "\n")
        let expectedLines = expected.split(separator: "\n")
        #expect(actualLines.count == expectedLines.count)
        for (actual, wanted) in zip(actualLines, expectedLines) where actual != wanted {
            Issue.record("differs from the golden file:\n- \(wanted)\n+ \(actual)")
        }
    }

    @Test func textShowsEveryLanguageAndASummary() async throws {
        // A fixed moment (07:00 UTC), inside the rules' quiet hours (21:30–08:30) for some
        // customers' time zones and not for others. Without it, inputs with no received_at were
        // judged at the wall clock, and the counts below held only at some hours of the day (the
        // suite failed when run after 07:30 UTC).
        let (status, stdout, _) = try await dryRun(
            ["--now", "2026-05-10T07:00:00Z", root.appendingPathComponent("samples").path])
        #expect(status == 1)  // Wakilni's messages fail without enrichment (see the golden test)
        #expect(stdout.contains("│ Bonjour Salma, votre commande ORD-000130 est en cours de livraison"))
        #expect(stdout.contains("│ مرحباً نادين، تم توصيل طلبك \u{2068}EAA6CAC9E1\u{2069} بنجاح. شكراً لثقتك!"))
        #expect(stdout.contains("deferred until 2026-05-10T07:30:00.000Z (quiet hours)"))
        #expect(stdout.contains("duplicate of \(root.path)/samples/cod-fulfillment/sequence/03-out_for_delivery.json"))
        #expect(stdout.contains("stale: older than the order's known status, sends nothing"))
        #expect(stdout.contains("30 inputs: 22 verified, 0 failed verification, 0 with errors; 3 duplicates, 1 stale"))
        let perChannel = "sms/ar 1, whatsapp/ar 2"
        #expect(stdout.contains("\n3 messages would be sent (\(perChannel))"))
        #expect(stdout.contains("not sent: 0 duplicate, 0 suppressed, 12 deferred (quiet hours), 0 held, 3 failed"))
        let english = try await dryRun(["--locale", "en", root.appendingPathComponent("samples/cod-fulfillment/delivered.json").path])
        #expect(english.1.contains("│ Hi Karim, your order ORD-000129 has been delivered. Thank you, and enjoy!"))
    }

    /// A UCS-2 SMS names the characters that force it; a GSM-7 one has no `ucs2_because`.
    @Test func jsonNamesTheCharactersThatForceUCS2() async throws {
        let folder = try temporaryFolder()
        let cod = folder.appendingPathComponent("cod-fulfillment")
        try FileManager.default.createDirectory(at: cod, withIntermediateDirectories: true)
        let body = String(decoding: Fixtures.sample("cod-fulfillment", "delivered.json"), as: UTF8.self)
        try body.write(to: cod.appendingPathComponent("a-gsm.json"), atomically: true, encoding: .utf8)
        // Another order (the runs share an order state: the same one would be a duplicate).
        try body.replacingOccurrences(of: "Karim Mansouri", with: "François Mansouri")
            .replacingOccurrences(of: "ORD-000129", with: "ORD-000199")
            .write(to: cod.appendingPathComponent("b-ucs2.json"), atomically: true, encoding: .utf8)

        let (status, stdout, stderr) = try await dryRun(["--format", "json", cod.path])
        #expect(status == 0, "\(stderr)")
        let results = stdout.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(results.count == 2)
        let gsm = try #require(results.first?["messages"]?.arrayValue?.first)
        #expect(gsm["encoding"] == .string("GSM-7"))
        #expect(gsm["ucs2_because"] == nil)
        #expect(gsm["ucs2_because_more"] == nil)
        let ucs2 = try #require(results.last?["messages"]?.arrayValue?.first)
        #expect(ucs2["text"]?.scalarText?.hasPrefix("Bonjour François,") == true)
        #expect(ucs2["encoding"] == .string("UCS-2"))
        #expect(ucs2["ucs2_because"] == .array([.string("ç")]))
        #expect(ucs2["ucs2_because_more"] == .number("0"))
        #expect(ucs2["segments"] == .number("2"))

        let (_, text, _) = try await dryRun([cod.appendingPathComponent("b-ucs2.json").path])
        #expect(text.contains("· UCS-2 (because of ç), 2 segments"))  // 116 units: one ç costs a second SMS
    }

    @Test func badInputsEachGetAnErrorAndTheRunGoesOn() async throws {
        let folder = try temporaryFolder()
        let cod = folder.appendingPathComponent("cod-fulfillment")
        try FileManager.default.createDirectory(at: cod, withIntermediateDirectories: true)
        try "{\"order\": {\"reference\": \"ORD-1\"".write(to: cod.appendingPathComponent("a-truncated.json"), atomically: true, encoding: .utf8)
        try #"{"provider":"cod-fulfillment","headers":{},"body":{"order":{}}}"#.write(to: cod.appendingPathComponent("b-mangled.json"), atomically: true, encoding: .utf8)
        try #"{"provider":"cod-fulfillment","headers":{},"body_base64":"%%%"}"#.write(to: cod.appendingPathComponent("c-base64.json"), atomically: true, encoding: .utf8)
        try #"{"provider":"shopify","headers":{},"body":"{}"}"#.write(to: cod.appendingPathComponent("d-unknown.json"), atomically: true, encoding: .utf8)
        let body = String(decoding: Fixtures.sample("cod-fulfillment", "delivered.json"), as: UTF8.self)
        let forged = JSONValue.object([
            ("provider", .string("cod-fulfillment")), ("headers", .object([("X-Webhook-Signature", .string(String(repeating: "0", count: 64)))])),
            ("body", .string(body)),
        ]).serialized()
        try forged.write(to: cod.appendingPathComponent("e-forged.json"), atomically: true, encoding: .utf8)
        let huge = cod.appendingPathComponent("f-huge.json")
        FileManager.default.createFile(atPath: huge.path, contents: nil)
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: 50 << 20)  // a 50 MB file (sparse)
        try handle.close()
        try body.write(to: cod.appendingPathComponent("g-good.json"), atomically: true, encoding: .utf8)
        let missing = folder.appendingPathComponent("missing.json").path

        let (status, stdout, _) = try await dryRun(["--format", "json", cod.path, missing])
        #expect(status == 1)
        let results = stdout.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(results.count == 8)
        func errors(_ index: Int) -> [String] {
            guard case .array(let list)? = results[index]["errors"] else { return [] }
            return list.compactMap(\.scalarText)
        }
        #expect(errors(0) == ["invalid JSON at byte 31: unexpected end of input"])
        #expect(errors(1) == ["envelope: body must be the raw body as a string (or body_base64), found an object"])
        #expect(errors(2) == ["envelope: body_base64 is not valid base64"])
        #expect(errors(3) == ["provider 'shopify' is not in the rules"])
        #expect(errors(4) == ["verification: signature does not match the body"])
        #expect(results[4]["verification"] == .string("failed"))
        #expect(errors(5) == ["the file is 52428800 bytes; captured webhooks are read up to 8388608 bytes"])
        #expect(errors(6) == [])
        #expect(results[6]["verification"] == .string("skipped"))
        #expect(errors(7) == ["cannot read the file (missing or not accessible)"])
    }

    @Test func rulesThatDoNotLoadExit2() async throws {
        let folder = try temporaryFolder()
        let broken = folder.appendingPathComponent("rules.yaml")
        try "version: 1\nrules: {}\n".write(to: broken, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try await HeraldProcess.run(
            ["dry-run", "--rules", broken.path, "--templates", templates, root.appendingPathComponent("samples").path])
        #expect(status == 2)
        #expect(stderr.contains("\(broken.path):2:8: error: rules must be a list"))
    }

    @Test func expectDetectsAChangedText() async throws {
        let folder = try temporaryFolder()
        let sample = root.appendingPathComponent("samples/cod-fulfillment/sequence").path
        let (_, saved, _) = try await dryRun(["--format", "json", "--now", "2026-05-10T12:00:00Z", sample])
        let expectFile = folder.appendingPathComponent("expected.jsonl")
        try saved.write(to: expectFile, atomically: true, encoding: .utf8)
        let same = try await dryRun(["--format", "json", "--now", "2026-05-10T12:00:00Z", "--expect", expectFile.path, sample])
        #expect(same.0 == 0)
        #expect(same.2.contains("output matches"))

        // The same run with a template changed by the operator.
        let changedTemplates = folder.appendingPathComponent("templates")
        try FileManager.default.copyItem(atPath: templates, toPath: changedTemplates.path)
        try "Bonjour {{customer.first_name}}, votre colis {{order.reference}} est livré.\n".write(
            to: changedTemplates.appendingPathComponent("delivered/fr.mustache"), atomically: true, encoding: .utf8)
        let (status, _, stderr) = try await HeraldProcess.run(
            ["dry-run", "--rules", rules, "--templates", changedTemplates.path, "--format", "json", "--now", "2026-05-10T12:00:00Z",
             "--expect", expectFile.path, sample], environment: environment)
        #expect(status == 1)
        #expect(stderr.contains("\(sample)/05-delivered.json:"))
        #expect(stderr.contains("""
              messages.0.text
                - "Bonjour Salma, votre commande ORD-000130 a bien été livrée. Merci de votre confiance, au plaisir de vous revoir !"
                + "Bonjour Salma, votre colis ORD-000130 est livré."
            """))
        #expect(stderr.contains("1 input differs from"))
    }

    @Test func exportedEventsReplayThroughDryRun() async throws {
        // Receive two webhooks with the real server, export them, dry-run the export.
        let folder = try temporaryFolder()
        let rulesCopy = folder.appendingPathComponent("rules.yaml").path
        try FileManager.default.copyItem(atPath: rules, toPath: rulesCopy)
        let server = try HeraldProcess(["serve", "--rules", rulesCopy, "--port", "0"], environment: environment)
        defer { server.terminate() }
        #expect(await server.waitForLog("herald is listening"))
        let port = try #require(ServeCommandTests.listeningPort(in: server.stderr))
        for name in ["03-out_for_delivery.json", "05-delivered.json"] {
            let input = try Fixtures.envelope("cod-fulfillment", name)
            let status = try await ServeCommandTests.post(port: port, provider: "cod-fulfillment", body: input.body, headers: input.headers)
            #expect(status.0 == 200)
        }
        server.process.interrupt()
        #expect(await server.wait(seconds: 20) == 0)

        let out = folder.appendingPathComponent("export").path
        let (exportStatus, _, exportLog) = try await HeraldProcess.run(["export", "--rules", rulesCopy, "--out", out])
        #expect(exportStatus == 0)
        #expect(exportLog.contains("wrote 2 envelopes"))
        let (status, stdout, _) = try await dryRun(["--format", "json", out])
        #expect(status == 0)
        let lines = stdout.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(lines.map { $0["verification"] } == [.string("ok"), .string("ok")])
        #expect(lines.compactMap { $0["event"]?["order"]?["status"]?.scalarText } == ["out_for_delivery", "delivered"])
    }

    /// Elebne names the customer only in order.new: order.delivered's SMS goes to that customer,
    /// and dry-run says where the phone came from (never the number itself in that line). The
    /// stock alert's `${MERCHANT_PHONE}` is unset: held, not "to nobody".
    @Test func elebneDeliveredGoesToTheCustomerOfOrderNew() async throws {
        var environment = self.environment
        environment["MERCHANT_PHONE"] = nil
        let folder = root.appendingPathComponent("samples/elebne/sequence").path
        let (status, stdout, stderr) = try await dryRun([folder], environment: environment)
        #expect(status == 0, "\(stderr)")
        #expect(stdout.contains("  message  delivered → sms to +222•••••678"))
        #expect(!stdout.contains("+22242345678"))  // masked as `herald messages` masks it
        #expect(stdout.contains("  inherit  customer.name: from \(folder)/01-order-new.json, order.new"))
        #expect(stdout.contains("           customer.phone: from \(folder)/01-order-new.json, order.new"))
        #expect(stdout.contains("  message  stock-alert → sms to ${MERCHANT_PHONE} (not set)"))
        #expect(!stdout.contains("nobody"))
        #expect(!stdout.contains("phone: from +"))

        let (_, json, _) = try await dryRun(["--format", "json", folder], environment: environment)
        let lines = json.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        let delivered = try #require(lines.first { $0["event"]?["event"] == .string("order.delivered") })
        #expect(delivered["inherited"]?["customer.phone"]?["from"] == .string("\(folder)/01-order-new.json"))
        #expect(delivered["inherited"]?["customer.phone"]?["event"] == .string("order.new"))
        #expect(delivered["messages"]?.arrayValue?.first?["to"] == .string("+22242345678"))
        let stock = try #require(lines.first { $0["event"]?["event"] == .string("product.stock_out") })
        let alert = try #require(stock["messages"]?.arrayValue?.first)
        #expect(alert["to"] == .null)
        #expect(alert["held"] == .string("recipient ${MERCHANT_PHONE} not set"))
        #expect(alert["problems"] == .array([]))

        let (_, revealed, _) = try await dryRun(["--reveal", folder], environment: environment)
        #expect(revealed.contains("  message  delivered → sms to +22242345678"))
    }

    /// `--db` starts from the live store's order state with what it remembers: order.delivered
    /// alone goes to the customer order.new named, in the store.
    @Test func dryRunWithTheLiveStoreKnowsTheOrdersCustomer() async throws {
        let db = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: db)
        let ruleSet = try Fixtures.shippedRuleSet()
        let profile = ruleSet.provider(named: "elebne")!
        let input = try Fixtures.envelope("elebne", "01-order-new.json")
        let request = WebhookRequest(
            provider: "elebne", headers: input.headers, body: input.body, receivedAt: input.receivedAt!)
        _ = try await store.record(IncomingEvent(request: request, profile: profile))
        try await Fixtures.decideWaiting(store, ruleSet: ruleSet)
        try await store.close()

        let file = root.appendingPathComponent("samples/elebne/sequence/03-order-delivered.json").path
        let (status, stdout, stderr) = try await dryRun(["--db", db, file])
        #expect(status == 0, "\(stderr)")
        #expect(stdout.contains("  message  delivered → sms to +222•••••678"))
        #expect(stdout.contains("customer.phone: from stored event 1, order.new"))
    }

    /// A forged envelope (the real body, a wrong signature, the secret set) is refused with 401 by
    /// the worker: dry-run lists no message, shows the rules, and exits 1.
    @Test func forgedEnvelopeListsNoMessageAndExits1() async throws {
        let folder = try temporaryFolder()
        let body = String(decoding: Fixtures.sample("cod-fulfillment", "delivered.json"), as: UTF8.self)
        let forged = JSONValue.object([
            ("provider", .string("cod-fulfillment")),
            ("headers", .object([("X-Webhook-Signature", .string(Fixtures.hmacHex(Array(body.utf8), secret: "x")))])),
            ("body", .string(body)),
        ]).serialized()
        let file = folder.appendingPathComponent("forged.json")
        try forged.write(to: file, atomically: true, encoding: .utf8)

        let (status, stdout, _) = try await dryRun(["--format", "json", file.path])
        #expect(status == 1)
        let result = try #require(try? JSONParser.parse(Array(stdout.utf8)))
        #expect(result["verification"] == .string("failed"))
        #expect(result["messages"] == .array([]))
        #expect(result["refused"] == .string("verification failed: the worker answers 401 and sends nothing"))
        let matched = result["rules"]?.arrayValue?.filter { $0["matched"] == .bool(true) }
            .compactMap { $0["id"]?.scalarText }
        #expect(matched == ["delivered"])

        let (textStatus, text, _) = try await dryRun([file.path])
        #expect(textStatus == 1)
        #expect(text.contains("  note     not sent: verification failed: the worker answers 401 and sends nothing"))
        #expect(text.contains("✓ delivered"))
        #expect(!text.contains("  message  "))
        #expect(text.contains("0 messages would be sent"))
        let notSent = "not sent: 0 duplicate, 0 suppressed, 0 deferred (quiet hours), 0 held, 0 failed; 1 refused"
        #expect(text.contains(notSent))

        // The same body correctly signed afterwards is not a duplicate of the refused one.
        let signed = JSONValue.object([
            ("provider", .string("cod-fulfillment")),
            ("headers", .object([("X-Webhook-Signature", .string(Fixtures.hmacHex(Array(body.utf8))))])),
            ("body", .string(body)),
        ]).serialized()
        try signed.write(to: folder.appendingPathComponent("real.json"), atomically: true, encoding: .utf8)
        let (_, both, _) = try await dryRun(["--format", "json", "--now", "2026-05-10T12:00:00Z", folder.path])
        let lines = both.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(lines.count == 2)
        #expect(lines.last?["duplicate_of"] == .null)
        #expect(lines.last?["messages"]?.arrayValue?.first?["outcome"] == .string("send"))
    }

    /// Held (credentials unset) does not change the exit status; a message that would fail does.
    @Test func heldAndFailedMessagesAreCountedApart() async throws {
        let folder = try temporaryFolder()
        let cod = folder.appendingPathComponent("cod-fulfillment")
        try FileManager.default.createDirectory(at: cod, withIntermediateDirectories: true)
        let body = String(decoding: Fixtures.sample("cod-fulfillment", "delivered.json"), as: UTF8.self)
        try body.write(to: cod.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)

        var unset = environment
        for name in Self.channelCredentials.keys { unset[name] = nil }
        let (heldStatus, held, _) = try await dryRun(
            ["--now", "2026-05-10T12:00:00Z", cod.path], environment: unset)
        #expect(heldStatus == 0, "\(held)")
        #expect(held.contains("held: channel 'sms' credentials not set:"))
        #expect(held.contains("0 messages would be sent"))
        #expect(held.contains("0 deferred (quiet hours), 1 held, 0 failed"))

        try body.replacingOccurrences(of: "+212661234567", with: "+2121")
            .replacingOccurrences(of: "ORD-000129", with: "ORD-000777")
            .write(to: cod.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        let (status, stdout, _) = try await dryRun(["--now", "2026-05-10T12:00:00Z", cod.path])
        #expect(status == 1, "\(stdout)")
        #expect(stdout.contains("1 message would be sent"))
        #expect(stdout.contains("0 held, 1 failed"))
        let (_, json, _) = try await dryRun(["--format", "json", "--now", "2026-05-10T12:00:00Z", cod.path])
        let outcomes = json.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
            .compactMap { $0["messages"]?.arrayValue?.first?["outcome"]?.scalarText }
        #expect(outcomes == ["send", "failed"])
    }

    @Test(arguments: [false, true])
    func missingOrEmptyTemplatesFolderExits2(empty: Bool) async throws {
        let folder = try temporaryFolder().appendingPathComponent("templates")
        if empty { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["dry-run", "--rules", rules, "--templates", folder.path, root.appendingPathComponent("samples").path],
            environment: environment)
        #expect(status == 2)
        #expect(stdout.isEmpty)
        let reason = empty ? "no templates in this folder" : "no templates folder here"
        #expect(stderr.contains("\(folder.path): error: \(reason)"))
    }
}
