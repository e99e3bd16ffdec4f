import ArgumentParser

/// Every subcommand, in help order.
let commandList: [any ParsableCommand.Type] = [
    RunsCommand.self,
]
