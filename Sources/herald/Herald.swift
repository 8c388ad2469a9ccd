import ArgumentParser
import HeraldCore

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Turns order-status webhooks into customer messages.",
        version: HeraldVersion.number,
        subcommands: [
            Serve.self, Check.self, DryRun.self, Events.self, Messages.self, Retry.self, Export.self, Suppressions.self,
            Replies.self, Backup.self, Copy.self, Prune.self, Forget.self,
        ]
    )
}
