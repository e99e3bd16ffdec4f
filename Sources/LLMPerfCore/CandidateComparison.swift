import Foundation

/// The baseline against one candidate.
public struct CandidateComparison: Sendable, Equatable, Codable {
    public var baseline: String
    public var candidate: String
    public var workloadDifferences: [WorkloadDifference]
    public var rows: [ComparisonRow]
    public var warnings: [ComparisonWarning]

    public init(
        baseline: String, candidate: String, workloadDifferences: [WorkloadDifference], rows: [ComparisonRow],
        warnings: [ComparisonWarning]
    ) {
        self.baseline = baseline
        self.candidate = candidate
        self.workloadDifferences = workloadDifferences
        self.rows = rows
        self.warnings = warnings
    }
}
