import ArgumentParser

/// Every subcommand, in help order.
let commandList: [any ParsableCommand.Type] = [
    CompareCommand.self,
    ServeCommand.self,
    GateCommand.self,
    ReportCommand.self,
    RunsCommand.self,
]
