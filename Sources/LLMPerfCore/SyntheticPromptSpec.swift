import Foundation

public struct SyntheticPromptSpec: Sendable, Equatable {
    /// Target prompt length in (approximate) tokens: mean and standard deviation.
    public var inputTokensMean: Int
    public var inputTokensStddev: Int
    /// How many distinct prompts to generate.
    public var count: Int
    /// `shared_prefix_tokens`: the leading tokens a prompt shares with the others of its group (0: none). They are
    /// part of its length: a prompt drawn shorter than the prefix and one token is lengthened to that.
    public var sharedPrefixTokens: Int = 0
    /// `prefix_groups`: how many distinct shared prefixes there are; each prompt's group is a seeded draw.
    public var prefixGroups: Int = 1

    public init(inputTokensMean: Int, inputTokensStddev: Int = 0, count: Int = 16) {
        self.inputTokensMean = inputTokensMean
        self.inputTokensStddev = inputTokensStddev
        self.count = count
    }
}
