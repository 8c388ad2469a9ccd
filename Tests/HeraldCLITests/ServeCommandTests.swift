import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("herald serve and herald events, as processes")
struct ServeCommandTests {
    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    let folder: URL

    var rulesPath: String { folder.appendingPathComponent("rules.yaml").path }

    var environment: [String: String] { Fixtures.environment.values }

    /// POSTs a webhook to `herald serve` on `port`; returns the status and the body.
    static func post(port: Int, provider: String, body: [UInt8], headers: [HeaderField]) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/webhooks/\(provider)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        for header in headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func brokenRulesStopTheServerFromStarting() async throws {
        try """
            version: 1
            providers:
              cod-fulfillment: { preset: cod-fulfillment, secert: "${COD_WEBHOOK_SECRET}" }
            """.write(toFile: rulesPath, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try await HeraldProcess.run(["serve", "--rules", rulesPath, "--port", "0"])
        #expect(status == 1)
        #expect(stderr.contains("\(rulesPath):3:47: error: unknown key 'secert' in provider 'cod-fulfillment'; did you mean 'secret'?"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("herald.sqlite").path))
    }

    @Test func serveReceivesStoresAndShutsDownCleanly() async throws {
        try FileManager.default.copyItem(atPath: Fixtures.root.appendingPathComponent("rules.yaml").path, toPath: rulesPath)
        let server = try HeraldProcess(["serve", "--rules", rulesPath, "--port", "0"], environment: environment)
        defer { server.terminate() }
        #expect(await server.waitForLog("herald is listening"))
        let port = try #require(Self.listeningPort(in: server.stderr))

        let delivered = Fixtures.sample("cod-fulfillment", "delivered.json")
        let signed = Fixtures.signedHeaders(provider: "cod-fulfillment", body: delivered)
        #expect(try await Self.post(port: port, provider: "cod-fulfillment", body: delivered, headers: signed) == (200, #"{"status":"accepted"}"#))
        #expect(try await Self.post(port: port, provider: "cod-fulfillment", body: delivered, headers: signed) == (200, #"{"status":"duplicate"}"#))
        let forged = [HeaderField(name: "X-Webhook-Signature", value: Fixtures.hmacHex(delivered, secret: "guess"))]
        #expect(try await Self.post(port: port, provider: "cod-fulfillment", body: delivered, headers: forged).0 == 401)
        let truncated = Array(delivered.prefix(60))
        let truncatedHeaders = Fixtures.signedHeaders(provider: "cod-fulfillment", body: truncated)
        #expect(try await Self.post(port: port, provider: "cod-fulfillment", body: truncated, headers: truncatedHeaders).0 == 200)

        server.process.interrupt()  // SIGINT; SIGTERM takes the same path
        #expect(await server.wait(seconds: 20) == 0)
        #expect(server.stderr.contains("store closed"))
        #expect(!server.stderr.contains(Fixtures.secret))
        #expect(!server.stderr.contains("+212661234567"))

        let (status, listing, _) = try await HeraldProcess.run(["events", "--rules", rulesPath])
        #expect(status == 0)
        let lines = listing.split(separator: "\n")
        #expect(lines.count == 3)  // header + 2 events
        #expect(lines.contains { $0.contains("ORD-000129") && $0.contains("out_for_delivery → delivered") && $0.contains("delivered 2×") })
        #expect(!listing.contains("+212661234567"))

        let (_, failed, _) = try await HeraldProcess.run(["events", "--rules", rulesPath, "--failed"])
        let failedLines = failed.split(separator: "\n")
        #expect(failedLines.count == 2)
        #expect(failedLines.last?.contains("parse error: invalid JSON") == true)
    }

    @Test func eventsWithoutAStoreSaysSo() async throws {
        let (status, _, stderr) = try await HeraldProcess.run(["events", "--db", folder.appendingPathComponent("none.sqlite").path])
        #expect(status == 1)
        #expect(stderr.contains("error: no store here"))
    }

    /// Unset variables make one warning that lists them all, not one line each.
    @Test func unsetVariablesMakeOneWarning() async throws {
        try copyShippedRules()
        let server = try HeraldProcess(["serve", "--rules", rulesPath, "--port", "0"])
        defer { server.terminate() }
        #expect(await server.waitForLog("herald is listening"))
        let warnings = server.stderr.split(separator: "\n").filter {
            $0.contains("not set") && $0.contains("environment variable")
        }
        #expect(warnings.count == 1)
        let warning = String(warnings.first ?? "")
        #expect(warning.contains("warning"))
        #expect(warning.contains("environment variables are not set: "))
        #expect(warning.contains("COD_WEBHOOK_SECRET (provider 'cod-fulfillment' secret)"))
        #expect(warning.contains("herald.variables="))
    }

    @Test(arguments: [["serve"], ["check"], ["dry-run", "samples"]])
    func aMissingRulesFileSaysWhichPathWasTried(command: [String]) async throws {
        let missing = folder.appendingPathComponent("nowhere.yaml").path
        let (status, _, stderr) = try await HeraldProcess.run(command + ["--rules", missing])
        #expect(status != 0)
        #expect(stderr.contains("\(missing):1:1: error: the rules file does not exist"))
        #expect(stderr.contains("(tried \(missing); pass --rules FILE)"))
    }

    /// `--db` naming a directory says so, in serve and in the commands that read the store.
    @Test(arguments: ["serve", "events", "messages"])
    func aDirectoryAsDbSaysSo(command: String) async throws {
        try copyShippedRules()
        let directory = folder.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var arguments = [command, "--rules", rulesPath, "--db", directory]
        if command == "serve" { arguments += ["--port", "0"] }
        let (status, _, stderr) = try await HeraldProcess.run(arguments, environment: environment)
        #expect(status == 1)
        #expect(stderr.contains("\(directory): error: cannot open the store: it is a directory, not an SQLite file"))
        #expect(!stderr.contains("SQLite error"))
    }

    /// A --trusted-proxy (or HERALD_TRUSTED_PROXIES entry) that is not a CIDR stops serve before it starts.
    @Test func anInvalidTrustedProxyIsAUsageError() async throws {
        try copyShippedRules()
        let arguments = ["serve", "--rules", rulesPath, "--port", "0"]
        let (status, _, stderr) = try await HeraldProcess.run(
            arguments + ["--trusted-proxy", "127.0.0.1/32", "--trusted-proxy", "10.0.0.0/33"], environment: environment)
        #expect(status == 2)
        #expect(stderr.contains("error: --trusted-proxy '10.0.0.0/33': not an IPv4 or IPv6 CIDR"))
        var fromEnvironment = environment
        fromEnvironment["HERALD_TRUSTED_PROXIES"] = "127.0.0.1, proxy.internal"
        let (envStatus, _, envStderr) = try await HeraldProcess.run(arguments, environment: fromEnvironment)
        #expect(envStatus == 2)
        #expect(envStderr.contains("error: HERALD_TRUSTED_PROXIES 'proxy.internal': not an IPv4 or IPv6 CIDR"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("herald.sqlite").path))
    }

    /// A port another process listens on stops a second `serve` at once, with the reason.
    @Test func busyPortStopsServeWithTheReason() async throws {
        try copyShippedRules()
        let first = try HeraldProcess(["serve", "--rules", rulesPath, "--port", "0"], environment: environment)
        defer { first.terminate() }
        #expect(await first.waitForLog("herald is listening"))
        let port = try #require(Self.listeningPort(in: first.stderr))

        let db = folder.appendingPathComponent("second.sqlite").path
        let started = Date()
        let arguments = ["serve", "--rules", rulesPath, "--db", db, "--port", "\(port)"]
        let second = try HeraldProcess(arguments, environment: environment)
        defer { second.terminate() }
        let status = await second.wait(seconds: 5)
        #expect(status == 1, "\(second.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(second.stderr.contains("error: 127.0.0.1:\(port) is already in use"))
        #expect(!second.stderr.contains("work failed"))
        #expect(!second.stderr.contains("herald is listening"))
        // The first one is untouched and still stops on SIGTERM.
        first.process.terminate()
        #expect(await first.wait(seconds: 20) == 0)
    }

    /// SIGTERM ends `serve` whatever it is doing, a start-up that fails included.
    @Test func sigtermDuringAFailingStartUpEndsIt() async throws {
        try copyShippedRules()
        let first = try HeraldProcess(["serve", "--rules", rulesPath, "--port", "0"], environment: environment)
        defer { first.terminate() }
        #expect(await first.waitForLog("herald is listening"))
        let port = try #require(Self.listeningPort(in: first.stderr))
        for delay in [0, 50, 200] {
            let db = folder.appendingPathComponent("busy-\(delay).sqlite").path
            let second = try HeraldProcess(
                ["serve", "--rules", rulesPath, "--db", db, "--port", "\(port)", "--drain-time", "2"],
                environment: environment)
            defer { second.terminate() }
            try await Task.sleep(for: .milliseconds(delay))
            second.process.terminate()  // SIGTERM
            let status = await second.wait(seconds: 5)
            #expect(status != nil, "still running \(delay) ms after start: \(second.stderr)")
        }
    }

    @Test(arguments: [false, true])
    func missingOrEmptyTemplatesFolderStopsServe(empty: Bool) async throws {
        try copyShippedRules()
        let templates = folder.appendingPathComponent("templates")
        if empty { try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true) }
        let (status, _, stderr) = try await HeraldProcess.run(
            ["serve", "--rules", rulesPath, "--templates", templates.path, "--port", "0"], environment: environment)
        #expect(status == 1)
        let reason = empty ? "no templates in this folder" : "no templates folder here"
        #expect(stderr.contains("\(templates.path): error: \(reason)"))
    }

    func copyShippedRules() throws {
        let shipped = Fixtures.root.appendingPathComponent("rules.yaml").path
        try FileManager.default.copyItem(atPath: shipped, toPath: rulesPath)
    }

    static func listeningPort(in log: String) -> Int? {
        guard let range = log.range(of: "herald.address=127.0.0.1:") else { return nil }
        return Int(log[range.upperBound...].prefix(while: \.isNumber))
    }
}
