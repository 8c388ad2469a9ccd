import ArgumentParser
import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import Logging

extension Herald {
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put failed or held messages back in the queue (same idempotency key, so never sent twice).",
            discussion: """
                Name messages by id, or release in bulk with --state held|failed, narrowed by --channel and
                --order. A released message still keeps quiet hours: the worker sends it at the end of the
                window in the recipient's time zone. A held message whose channel credentials are still
                unset stays held, without using an attempt.
                """)

        @Option(help: "The rules file (locates the default database).")
        var rules: String = "rules.yaml"

        @Option(help: "The templates folder (a message that failed before it had a text is rendered again).")
        var templates: String = "templates"

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "Release every message in this state: held or failed.")
        var state: String?

        @Option(help: "With --state: only this channel's messages.")
        var channel: String?

        @Option(help: "With --state: only this order's messages.")
        var order: String?

        @Flag(help: "Also release messages whose outcome is unknown (they may have gone out: sent again on your word).")
        var force = false

        @Argument(help: "Message ids, as herald messages lists them.")
        var ids: [Int64] = []

        func validate() throws {
            if let state, !["held", "failed"].contains(state) {
                throw ValidationError("--state must be held or failed")
            }
            if state == nil, channel != nil || order != nil {
                throw ValidationError("--channel and --order narrow a bulk release: add --state held|failed")
            }
            if state != nil, !ids.isEmpty {
                throw ValidationError("give message ids or --state, not both")
            }
            if state == nil, ids.isEmpty {
                throw ValidationError("give message ids, or --state held|failed to release in bulk")
            }
        }

        func run() async throws {
            let store = try await storeOptions.openExisting(rules: rules)
            if let state, let wanted = OutboxMessage.State(rawValue: state) {
                try await releaseInBulk(store, state: wanted)
                return
            }
            let failed = try await store.messages(MessageQuery(state: .failed, limit: Int(Int32.max)))
            let wanted = Set(ids)
            let stillFailing = try await replan(failed.filter { wanted.contains($0.id) }, store: store)
            let released = try await store.release(ids: ids.filter { !stillFailing.contains($0) }, at: Date(), force: force)
            try await store.close()
            let skipped = ids.filter { !released.contains($0) && !stillFailing.contains($0) }
            print("released \(released.count) message\(released.count == 1 ? "" : "s")\(released.isEmpty ? "" : ": \(released.map(String.init).joined(separator: " "))")")
            if !skipped.isEmpty {
                printError("not released (unknown, already sent or still queued): \(skipped.map(String.init).joined(separator: " "))")
                throw ExitCode(1)
            }
            if !stillFailing.isEmpty { throw ExitCode(1) }
        }

        /// Releases every message in `state`, narrowed by channel and order.
        func releaseInBulk(_ store: any Store, state: OutboxMessage.State) async throws {
            let query = MessageQuery(orderReference: order, state: state, limit: Int(Int32.max))
            let matching = try await store.messages(query)
                .filter { channel == nil || $0.channel == channel }
            let stillFailing = try await replan(matching, store: store)
            let released = try await store.release(
                ids: matching.map(\.id).filter { !stillFailing.contains($0) }.sorted(), at: Date())
            try await store.close()
            let plural = released.count == 1 ? "" : "s"
            print("released \(released.count) \(state.rawValue) message\(plural)"
                + (released.isEmpty ? "" : ": \(released.map(String.init).joined(separator: " "))"))
            if !stillFailing.isEmpty { throw ExitCode(1) }
        }

        /// Plans again, with today's rules and templates, every message of `messages` that failed
        /// before it had a text, so no release sends an empty one. Returns the ids that are still
        /// failing (not to be released), each reported with its reason.
        func replan(_ messages: [OutboxMessage], store: any Store) async throws -> Set<Int64> {
            let textless = messages.filter {
                $0.state == .failed && $0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
            guard !textless.isEmpty else { return [] }
            let ruleSet: RuleSet
            let templateStore: TemplateStore
            do {
                ruleSet = try RuleSet.load(path: rules)
                templateStore = try TemplateStore.load(path: templates)
            } catch {
                printError(
                    "error: \(textless.count) message(s) failed before rendering and need the rules and "
                        + "templates to be planned again:\n\(error)")
                return Set(textless.map(\.id))
            }
            var logger = Logger(label: "herald.retry")
            logger.logLevel = .error
            let processor = EventProcessor(ruleSet: ruleSet, templates: templateStore, store: store, logger: logger)
            var stillFailing: Set<Int64> = []
            for message in textless {
                guard let event = try await store.event(id: message.eventID),
                    let planned = await processor.replanned(message, event: event)
                else {
                    printError("message \(message.id): not released: its event or rule no longer yields a message")
                    stillFailing.insert(message.id)
                    continue
                }
                var replanned = planned
                if planned.state == .failed || planned.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    replanned.lastError = planned.lastError ?? "no text"
                    try await store.replan(id: message.id, with: replanned)
                    printError("message \(message.id): not released: \(replanned.lastError ?? "no text")")
                    stillFailing.insert(message.id)
                    continue
                }
                replanned.lastError = message.lastError
                try await store.replan(id: message.id, with: replanned)
            }
            return stillFailing
        }
    }
}
