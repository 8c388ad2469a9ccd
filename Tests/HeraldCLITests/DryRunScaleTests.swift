import Foundation
import HeraldCore
import Testing

@Suite("herald dry-run over a captured month")
struct DryRunScaleTests {
    /// 1 000 orders through prepared → out_for_delivery → delivered: 3 000 bare bodies in one
    /// folder, streamed through one buffer. Every input gets its line, in name order, with the
    /// messages its step yields, and the summary counts them all (a debug build runs about 1 000
    /// inputs/s, hence not more).
    @Test func everyInputOfALargeFolderGetsItsLineInOrder() async throws {
        let orders = 1_000
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("herald-scale-\(UUID().uuidString)/cod-fulfillment")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let steps = [("preparing", "prepared"), ("prepared", "out_for_delivery"), ("out_for_delivery", "delivered")]
        var names: [String] = []
        for order in 1...orders {
            for (index, (old, new)) in steps.enumerated() {
                let body = """
                    {"event":"order.status_updated","timestamp":"2026-05-10T1\(index):00:00+01:00",\
                    "order":{"reference":"SCALE-\(order)","old_status":"\(old)","new_status":"\(new)",\
                    "amount":1799,"currency":"MAD","tracking_number":"F-CSA6SFJ6EMY",\
                    "delivery_notes":"Call before delivery","created_at":"2026-05-08T12:25:44+01:00"},\
                    "customer":{"name":"Karim Mansouri","phone":"+212661234567","city":"Casablanca",\
                    "address":"123 Bd Mohammed V"},\
                    "items":[{"product_name":"Argivit Classic Tablets","sku":"MA-ArgivitClassic","quantity":1,\
                    "price":1799}]}
                    """
                let name = String(format: "%07d.json", names.count)
                try body.write(to: folder.appendingPathComponent(name), atomically: false, encoding: .utf8)
                names.append(folder.appendingPathComponent(name).path)
            }
        }

        let command = DryRunCommandTests()
        let (status, stdout, stderr) = try await command.dryRun([
            "--format", "json", "--now", "2026-05-10T12:00:00Z", folder.path,
        ])
        #expect(status == 0, "\(stderr)")
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == orders * steps.count)
        var sent = 0
        for (index, line) in lines.enumerated() {
            let result = try JSONParser.parse(Array(line.utf8))
            #expect(result["input"] == .string(names[index]))
            let rules = (result["messages"]?.arrayValue ?? []).compactMap { $0["rule"]?.scalarText }
            let wanted = [[], ["out-for-delivery", "courier-will-call"], ["delivered"]][index % steps.count]
            #expect(rules == wanted, "\(names[index])")
            sent += (result["messages"]?.arrayValue ?? []).filter { $0["outcome"] == .string("send") }.count
        }
        #expect(sent == orders * 3)

        let (_, text, _) = try await command.dryRun(["--now", "2026-05-10T12:00:00Z", folder.path])
        #expect(text.hasSuffix("\n"))
        #expect(text.contains("\(orders * steps.count) inputs: 0 verified, 0 failed verification, 0 with errors"))
        #expect(text.contains("\(orders * 3) messages would be sent"))
    }
}
