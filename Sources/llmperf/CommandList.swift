import ArgumentParser

/// Every subcommand, in help order.
let commandList: [any ParsableCommand.Type] = [
    RunCommand.self,
    SweepCommand.self,
    LabCommand.self,
    CompareCommand.self,
    ServeCommand.self,
    CalibrateCommand.self,
    BenchEngineCommand.self,
    GateCommand.self,
    ReportCommand.self,
    RunsCommand.self,
    MergeCommand.self,
    KubeCommand.self,
]
