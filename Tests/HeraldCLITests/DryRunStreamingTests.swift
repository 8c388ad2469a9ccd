import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// `herald dry-run` reads inputs as it goes: folders one directory at a time, `.jsonl` files a
/// chunk at a time. What a user sees is the order and the lines, the same as before.
@Suite("herald dry-run, streamed")
struct DryRunStreamingTests {
    let command = DryRunCommandTests()

    func envelope(_ file: String) throws -> String {
        let url = Fixtures.root.appendingPathComponent("samples/cod-fulfillment/sequence/\(file)")
        return try String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Nested folders come in the order of their whole paths (`a.json` before `a/…`, `a-b/…`
    /// before `a/…`), hidden files and folders are skipped, a provider's folder names its bare
    /// bodies' provider.
    @Test func foldersAreReadInTheOrderOfTheirPaths() async throws {
        let root = try command.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let body = String(decoding: Fixtures.sample("cod-fulfillment", "delivered.json"), as: UTF8.self)
        let files = [
            "cod-fulfillment/a.json", "cod-fulfillment/a/b.json", "cod-fulfillment/a-b/c.json",
            "cod-fulfillment/a/z/d.json", "cod-fulfillment/b.json", "cod-fulfillment/.hidden.json",
            "cod-fulfillment/.git/e.json", "cod-fulfillment/notes.txt", "cod-fulfillment/Z.json",
        ]
        for file in files {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try body.write(to: url, atomically: false, encoding: .utf8)
        }
        let (_, stdout, stderr) = try await command.dryRun([
            "--format", "json", "--provider", "cod-fulfillment", root.path,
        ])
        let inputs = stdout.split(separator: "\n").map { line in
            (try? JSONParser.parse(Array(line.utf8)))?["input"]?.scalarText ?? "?"
        }
        let expected = [
            "cod-fulfillment/Z.json", "cod-fulfillment/a-b/c.json", "cod-fulfillment/a.json",
            "cod-fulfillment/a/b.json",
            "cod-fulfillment/a/z/d.json", "cod-fulfillment/b.json",
        ].map { root.appendingPathComponent($0).path }
        #expect(inputs == expected, "\(stderr)")
    }

    /// A captured month in one file: each line an envelope or a bare body, named FILE:LINE; a
    /// blank line is skipped, a broken one is reported at its line and column and the rest still
    /// run. The lines give what the same envelopes give as files.
    @Test func jsonLinesAreReadLineByLine() async throws {
        let folder = try command.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sequence = ["01-picked_up.json", "02-preparing.json", "03-out_for_delivery.json", "05-delivered.json"]
        let envelopes = try sequence.map(envelope)
        let month = folder.appendingPathComponent("month.jsonl")
        let broken = #"{"provider": "cod-fulfillment", "body": "{}",, }"#
        let lines = [envelopes[0], envelopes[1], "", broken, envelopes[2], "  ", envelopes[3] + "\r"]
        try lines.joined(separator: "\n").write(to: month, atomically: false, encoding: .utf8)  // no final newline
        let arguments = ["--format", "json", "--now", "2026-05-10T12:00:00Z"]

        let (status, stdout, stderr) = try await command.dryRun(arguments + [month.path])
        #expect(status == 1)  // the broken line
        #expect(stderr.contains("\(month.path):4:46: error: invalid JSON: expected a member name"), "\(stderr)")
        let results = stdout.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(results.map { $0["input"]?.scalarText ?? "?" } == [1, 2, 4, 5, 7].map { "\(month.path):\($0)" })
        try #require(results.count == 5)
        #expect(results[2]["errors"] == .array([.string("invalid JSON: expected a member name")]))

        // The same envelopes as files, in the same order: the same lines but for the names.
        let files = folder.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for (index, text) in envelopes.enumerated() {
            try text.write(to: files.appendingPathComponent("\(index).json"), atomically: false, encoding: .utf8)
        }
        let (fileStatus, fileOutput, _) = try await command.dryRun(arguments + [files.path])
        #expect(fileStatus == 0)
        // Inputs are named in the lines (`input`, `duplicate_of`, `inherited.*.from`): each is
        // replaced by its position before the two runs are compared.
        func renamed(_ output: String, _ names: [String]) -> [String] {
            output.split(separator: "\n").map { line in
                var line = String(line)
                for (index, name) in names.enumerated() {
                    line = line.replacingOccurrences(of: "\"\(name)\"", with: "\"#\(index)\"")
                }
                return line
            }
        }
        let jsonl = renamed(stdout, [1, 2, 5, 7].map { "\(month.path):\($0)" })
        let fromFiles = renamed(fileOutput, envelopes.indices.map { files.appendingPathComponent("\($0).json").path })
        try #require(jsonl.count == 5)
        #expect([jsonl[0], jsonl[1], jsonl[3], jsonl[4]] == fromFiles)
        let fileResults = fileOutput.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(fileResults.contains { ($0["messages"]?.arrayValue ?? []).count > 0 })
    }
}
