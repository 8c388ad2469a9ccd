import Foundation
import HeraldTestSupport
import Testing

/// `herald serve --public-url` (or `HERALD_PUBLIC_URL`): the address Twilio signs receipts over.
extension ServeCommandTests {
    @Test func aPublicURLThatIsNotAnHTTPAddressIsAUsageError() async throws {
        try copyShippedRules()
        let arguments = ["serve", "--rules", rulesPath, "--port", "0"]
        let (status, _, stderr) = try await HeraldProcess.run(
            arguments + ["--public-url", "herald.example.com"], environment: environment)
        #expect(status == 2)
        #expect(stderr.contains("error: the public URL must be an http or https address without a query"))
        var fromEnvironment = environment
        fromEnvironment["HERALD_PUBLIC_URL"] = "https://herald.example.com/?x=1"
        let (envStatus, _, _) = try await HeraldProcess.run(arguments, environment: fromEnvironment)
        #expect(envStatus == 2)
    }

    /// The shipped rules have a Twilio channel: without a public URL its receipts cannot be checked.
    @Test func servingTwilioWithoutAPublicURLWarnsOnce() async throws {
        try copyShippedRules()
        let server = try HeraldProcess(["serve", "--rules", rulesPath, "--port", "0"], environment: environment)
        defer { server.terminate() }
        #expect(await server.waitForLog("herald is listening"))
        #expect(server.stderr.contains("no --public-url (HERALD_PUBLIC_URL): Twilio receipts are answered 503"))
        server.process.interrupt()
        #expect(await server.wait(seconds: 20) == 0)
    }
}
