import Foundation
import HeraldCore
import HeraldTestSupport
import PropertyBased
import Testing

/// Property-based fuzzing of what a stranger controls: webhook bodies and headers into
/// verification and normalization, and rules.yaml text into the loader. Inputs are lists of
/// mutation codes applied to the real samples, so a failure shrinks to a few edits of a real file.
///
///     HERALD_FUZZ_COUNT=20000 swift test --filter FuzzTests    # the long run (CI runs 200)
@Suite("Fuzzing: hostile bytes into verification, normalization and the rules loader")
struct FuzzTests {
    static let count = Int(ProcessInfo.processInfo.environment["HERALD_FUZZ_COUNT"] ?? "") ?? 200

    /// Every sample body, per provider: the seed examples and each sequence envelope's body.
    static let bodies: [(provider: String, body: [UInt8])] = Presets.names.flatMap { provider -> [(String, [UInt8])] in
        let folder = Fixtures.root.appendingPathComponent("samples/\(provider)")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var bodies = files.filter { $0.hasSuffix(".json") }.sorted().map { (provider, Fixtures.sample(provider, $0)) }
        for file in (try? Fixtures.sequence(provider)) ?? [] {
            if let input = try? Fixtures.envelope(provider, file) { bodies.append((provider, input.body)) }
        }
        return bodies
    }

    /// Pieces that break parsers: structure, escapes, invalid UTF-8, hostile numbers.
    static let splices: [[UInt8]] = [
        Array("\"".utf8), Array("\\".utf8), Array("{".utf8), Array("]".utf8), Array(":,".utf8), [0xFF], [0xC3], [0xED, 0xA0, 0x80],
        [0x00], Array("\\ud800".utf8), Array("1e999".utf8), Array("-0.0e-999999".utf8), Array("NaN".utf8),
        Array(String(repeating: "9", count: 400).utf8), Array(repeating: UInt8(ascii: "["), count: 300), Array("null".utf8),
        Array("\"\u{202E}\u{2068}ليلى\"".utf8), Array("2026-02-30T25:61:00+99:00".utf8),
    ]

    /// Applies mutation codes: replace, insert, delete, truncate, duplicate a slice, or splice in a hostile piece.
    static func mutate(_ original: [UInt8], _ codes: [Int]) -> [UInt8] {
        var bytes = original
        for code in codes {
            let at = bytes.isEmpty ? 0 : (code / 8) % bytes.count
            let byte = UInt8(truncatingIfNeeded: code / 65_536)
            switch code % 8 {
            case 0: if !bytes.isEmpty { bytes[at] = byte }
            case 1: bytes.insert(byte, at: at)
            case 2: if !bytes.isEmpty { bytes.remove(at: at) }
            case 3: bytes = Array(bytes.prefix(at))
            case 4: bytes.insert(contentsOf: Array(bytes[at..<min(bytes.count, at + 64)]), at: at)
            default: bytes.insert(contentsOf: splices[(code / 16) % splices.count], at: at)
            }
        }
        return bytes
    }

    static let codes = Gen.int(in: 0...Int(Int32.max)).array(of: 1...6)
    let ruleSet: RuleSet
    init() throws { ruleSet = try Fixtures.shippedRuleSet() }
    let now = Date(timeIntervalSince1970: 1_778_414_400)

    func request(_ provider: String, _ body: [UInt8], headers: [HeaderField]) -> WebhookRequest {
        WebhookRequest(provider: provider, headers: headers, body: body, remoteAddress: "127.0.0.1", receivedAt: now)
    }

    @Test func mutatedBodiesAreVerifiedOnlyWithTheirOwnSignatureAndNormalizeWithoutCrashing() async {
        await propertyCheck(count: Self.count, input: Self.codes) { codes in
            for (provider, original) in Self.bodies {
                let profile = ruleSet.provider(named: provider)!
                let mutated = Self.mutate(original, codes)
                // Signed by the provider as it is: authentic, stored, normalized (or kept with its parse error).
                let signed = request(provider, mutated, headers: Fixtures.signedHeaders(provider: provider, body: mutated))
                #expect(profile.verification.verify(signed, now: now) == .verified, "\(provider)")
                let normalized = profile.normalize(signed)
                #expect(normalized.event != nil || normalized.parseError != nil, "\(provider): neither an event nor a reason")
                // Intake's keys are the processor's: the same event, and the same order to take it in turn with.
                #expect(profile.intakeKeys(signed) == IntakeKeys(normalized), "\(provider)")
                // The original's signature on the changed bytes: refused by every provider that signs bodies.
                if mutated != original, ["cod-fulfillment", "wakilni", "elebne"].contains(provider) {
                    let replayed = request(provider, mutated, headers: Fixtures.signedHeaders(provider: provider, body: original))
                    #expect(profile.verification.verify(replayed, now: now) != .verified, "\(provider): tampered body accepted")
                }
            }
        }
    }

    @Test func randomBytesAndHeadersNeverVerifyAndNeverCrash() async {
        let names = ["X-Webhook-Signature", "x-webhook-signature", "x-armada-app-id", "X-Api-Key", "webhook-signature", "webhook-id", "webhook-timestamp"]
        await propertyCheck(count: Self.count, input: Gen<UInt8>.value(in: 0...255).array(of: 0...512), Gen.int(in: 0...Int(Int32.max)).array(of: 0...6)) { body, headerCodes in
            let headers = headerCodes.map { code in
                let value = String(decoding: Self.mutate(Array("sha256=00ff".utf8), [code, code / 3]), as: UTF8.self)
                return HeaderField(name: names[code % names.count], value: value)
            }
            _ = try? JSONParser.parse(body)
            for profile in ruleSet.providers {
                let webhook = request(profile.name, body, headers: headers)
                #expect(profile.verification.verify(webhook, now: now) != .verified, "\(profile.name) accepted random input")
                _ = profile.normalize(webhook)
            }
        }
    }

    @Test func mutatedRulesFilesLoadOrPointAtALineOfTheFile() async throws {
        let text = Array(try String(contentsOf: Fixtures.root.appendingPathComponent("rules.yaml"), encoding: .utf8).utf8)
        await propertyCheck(count: Self.count, input: Self.codes) { codes in
            let mutated = String(decoding: Self.mutate(text, codes), as: UTF8.self)
            // Lines as YAML (and editors) count them: CR, LF, CRLF, NEL, LS and PS end a line.
            let lines = mutated.split(omittingEmptySubsequences: false) { ["\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }.count
            do {
                _ = try RuleSet.parse(yaml: mutated, file: "rules.yaml", environment: Fixtures.environment)
            } catch let errors as ConfigErrors {
                #expect(!errors.errors.isEmpty)
                for error in errors.errors {
                    #expect((1...lines + 1).contains(error.line) && error.column >= 1, "\(error)")
                    #expect(error.description.hasPrefix("rules.yaml:\(error.line):\(error.column): "))
                }
            } catch {
                Issue.record("not a located error: \(error)")
            }
        }
    }
}
