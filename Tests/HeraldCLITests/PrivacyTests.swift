import Foundation
import HTTPTypes
import HeraldCore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The whole pipeline as an operator runs it (`herald serve` as a process, every sample sequence
/// posted over HTTP, messages sent to a fake Twilio and WhatsApp Cloud, enrichment from a fake
/// merchant API), with known secrets: none of them, and no full customer phone number, may reach
/// the logs or the operator's listings.
@Suite("Secrets and phone numbers stay out of logs and listings")
struct PrivacyTests {
    let folder: URL
    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-privacy-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    static let secrets = [
        "TWILIO_AUTH_TOKEN": "tw-auth-5ecret-8d1f", "WA_TOKEN": "EAAG-wa-5ecret-token-77", "MERCHANT_API_TOKEN": "merchant-5ecret-42",
    ]

    /// Fake providers: Twilio refuses the first number it sees with its real error text, which
    /// quotes the number; WhatsApp says the token expired once; the merchant API knows Wakilni's order.
    final class Fakes: Sendable {
        let seen = Mutex((twilio: 0, whatsapp: 0, authorizations: [String]()))
        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.get("api/orders/:id") { request, _ -> Response in
                self.seen.withLock { $0.authorizations.append(request.headers[.authorization] ?? "") }
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"phone":"03 123 456","name":"Rania Haddad"}"#)))
            }
            router.post("**") { request, _ -> Response in
                var request = request
                let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
                let twilio = request.uri.path.hasSuffix("Messages.json")
                let count = self.seen.withLock { seen -> Int in
                    if twilio { seen.twilio += 1; return seen.twilio } else { seen.whatsapp += 1; return seen.whatsapp }
                }
                func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
                    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
                }
                if twilio {
                    let to = body.split(separator: "&").first { $0.hasPrefix("To=") }.map { String($0.dropFirst(3)).removingPercentEncoding ?? "" } ?? ""
                    if count == 1 {
                        return json(.badRequest, #"{"code":21211,"message":"The 'To' number \#(to) is not a valid phone number.","status":400}"#)
                    }
                    return json(.created, #"{"sid":"SM\#(count)","status":"queued"}"#)
                }
                if count == 1 {
                    return json(.unauthorized, #"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190}}"#)
                }
                return json(.ok, #"{"messaging_product":"whatsapp","messages":[{"id":"wamid.\#(count)"}]}"#)
            }
            return router
        }
    }

    func post(port: Int, provider: String, body: [UInt8], headers: [HeaderField]) async throws -> Int {
        try await ServeCommandTests.post(port: port, provider: provider, body: body, headers: headers).0
    }

    @Test func noSecretOrFullPhoneNumberReachesLogsOrListings() async throws {
        let fakes = Fakes()
        let app = Application(router: fakes.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = client.port!
            var rules = try Fixtures.shippedRulesText(
                fakeProviderPort: port, enrichHeaders: #"{ Authorization: "Bearer ${MERCHANT_API_TOKEN}" }"#)
            // Quiet hours would keep most messages queued, depending on when the test runs.
            rules = rules.replacingOccurrences(of: #"quiet_hours: { from: "21:30", to: "08:30" }"#, with: "")
            let rulesPath = folder.appendingPathComponent("rules.yaml").path
            try rules.write(toFile: rulesPath, atomically: true, encoding: .utf8)
            var environment = Fixtures.environment.values.merging(Self.secrets) { $1 }
            environment.merge(["TWILIO_ACCOUNT_SID": "AC0123456789abcdef", "TWILIO_FROM": "+212500000000", "WA_PHONE_NUMBER_ID": "1055",
                               "MERCHANT_PHONE": "+22236001122"]) { $1 }

            let server = try HeraldProcess(["serve", "--rules", rulesPath, "--port", "0", "--log-level", "trace"], environment: environment)
            defer { server.terminate() }
            #expect(await server.waitForLog("herald is listening"))
            let herald = try #require(ServeCommandTests.listeningPort(in: server.stderr))

            // Every sample sequence, as the providers send it, plus a forged and an unknown one.
            var posted = 0
            for provider in Presets.names {
                for file in try Fixtures.sequence(provider) {
                    let input = try Fixtures.envelope(provider, file)
                    #expect(try await post(port: herald, provider: provider, body: input.body, headers: input.headers) == 200, "\(provider)/\(file)")
                    posted += 1
                }
            }
            let seed = Fixtures.sample("cod-fulfillment", "delivered.json")
            let forged = [HeaderField(name: "X-Webhook-Signature", value: Fixtures.hmacHex(seed, secret: "herald-test-secreT"))]
            #expect(try await post(port: herald, provider: "cod-fulfillment", body: seed, headers: forged) == 401)
            #expect(try await post(port: herald, provider: "no-such", body: seed, headers: Fixtures.signedHeaders(provider: "cod-fulfillment", body: seed)) == 404)

            // Let the worker settle: the listing stops changing (night-time messages stay pending).
            var listing = ""
            for _ in 0..<60 {
                try await Task.sleep(for: .milliseconds(500))
                let (_, now, _) = try await HeraldProcess.run(["messages", "--rules", rulesPath, "--limit", "500"])
                if now == listing, !now.contains(" sending ") { break }
                listing = now
            }
            // The held WhatsApp message goes out after the operator's retry.
            let heldIDs = listing.split(separator: "\n").filter { $0.contains(" held ") }.compactMap { $0.split(separator: " ").first.map(String.init) }
            #expect(!heldIDs.isEmpty)
            let (retried, _, _) = try await HeraldProcess.run(["retry", "--rules", rulesPath] + heldIDs)
            #expect(retried == 0)
            try await Task.sleep(for: .seconds(2))

            server.process.interrupt()
            #expect(await server.wait(seconds: 20) == 0)

            var outputs = ["herald serve log": server.stderr]
            for arguments in [["events"], ["events", "--failed"], ["messages"], ["messages", "--text"], ["messages", "--state", "failed"]] {
                let (status, out, err) = try await HeraldProcess.run(arguments + ["--rules", rulesPath, "--limit", "500"])
                #expect(status == 0)
                outputs["herald " + arguments.joined(separator: " ")] = out + err
            }
            let (_, revealed, _) = try await HeraldProcess.run(["messages", "--rules", rulesPath, "--limit", "500", "--reveal"])

            // The phone numbers the run handled: every recipient, in E.164 and national form.
            let numbers = Set(revealed.split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { $0.hasPrefix("+") && $0.count >= 10 && $0.dropFirst().allSatisfy(\.isNumber) }.map(String.init))
            #expect(numbers.count >= 5, "\(numbers)")
            var forbidden = Array(Self.secrets.values) + [Fixtures.secret, Fixtures.armadaAppID, Fixtures.storefrontKey]
            forbidden.append(Data("AC0123456789abcdef:\(Self.secrets["TWILIO_AUTH_TOKEN"]!)".utf8).base64EncodedString())
            for number in numbers {
                forbidden.append(number)
                for code in ["212", "961", "965", "222"] where number.hasPrefix("+" + code) {
                    forbidden.append(String(number.dropFirst(1 + code.count)))  // 661234567, 3123456, …
                }
            }
            forbidden.append("03 123 456")  // the merchant API's raw form
            for (name, text) in outputs {
                #expect(!text.isEmpty, "\(name) printed nothing")
                for secret in forbidden { #expect(!text.contains(secret), "\(name) shows \(secret)") }
            }
            // The run did what it claims: messages went out, errors were logged, and the operator
            // can still see the numbers when asking for them.
            #expect(fakes.seen.withLock { $0.twilio } >= 3)
            #expect(fakes.seen.withLock { $0.authorizations } .contains("Bearer " + Self.secrets["MERCHANT_API_TOKEN"]!))
            #expect(outputs["herald messages"]!.contains("21211"))
            #expect(outputs["herald serve log"]!.contains("signature"))
            #expect(revealed.contains("+212661234567"))
            #expect(posted >= 20)
        }
    }
}
