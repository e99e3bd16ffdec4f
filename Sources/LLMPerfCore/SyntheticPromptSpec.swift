import Foundation

public struct SyntheticPromptSpec: Sendable, Equatable {
    /// Target prompt length in (approximate) tokens: mean and standard deviation.
    public var inputTokensMean: Int
    public var inputTokensStddev: Int
    /// How many distinct prompts to generate.
    public var count: Int

    public init(inputTokensMean: Int, inputTokensStddev: Int = 0, count: Int = 16) {
        self.inputTokensMean = inputTokensMean
        self.inputTokensStddev = inputTokensStddev
        self.count = count
    }
}
