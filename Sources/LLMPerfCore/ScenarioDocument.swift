import Foundation

/// A scenario file after loading: one scenario per run it asks for (one, or one per variant
/// in file order; the first variant is the baseline the others are compared with).
public struct ScenarioDocument: Sendable, Equatable {
    public var path: String
    public var runs: [Scenario]
    /// The `lab:` section: how `llmperf lab` compares the variants; nil when absent.
    public var lab: LabSpec?

    public init(path: String, runs: [Scenario], lab: LabSpec? = nil) {
        self.path = path
        self.runs = runs
        self.lab = lab
    }
}
