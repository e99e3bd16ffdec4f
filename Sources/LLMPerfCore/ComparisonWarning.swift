import Foundation

public struct ComparisonWarning: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case workloadDiffers = "workload_differs"
        case smallSample = "small_sample"
    }

    public var kind: Kind
    /// The run the warning is about (the candidate for workload differences).
    public var run: String
    public var message: String

    public init(kind: Kind, run: String, message: String) {
        self.kind = kind
        self.run = run
        self.message = message
    }
}
