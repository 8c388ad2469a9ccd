import ArgumentParser

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Turns order-status webhooks into customer messages.",
        subcommands: [
            Serve.self, Check.self, DryRun.self, Events.self, Messages.self, Retry.self, Export.self, Suppressions.self,
        ]
    )
}
