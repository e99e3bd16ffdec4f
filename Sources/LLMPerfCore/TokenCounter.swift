import Foundation

/// The run's tokenizer as the client uses it (`workload.tokenizer` other than `words`): counting
/// the tokens of an answer when the endpoint reported no usage, and of a session's history. Set by
/// the runner once the tokenizer is loaded; not part of the scenario (two counters are equal when
/// their names are).
public struct TokenCounter: Sendable, Equatable {
    /// What counted, as the run's output names it (`default (SmolLM2-….gguf)`).
    public let name: String
    public let count: @Sendable (String) -> Int

    public init(name: String, count: @escaping @Sendable (String) -> Int) {
        self.name = name
        self.count = count
    }

    public static func == (a: TokenCounter, b: TokenCounter) -> Bool { a.name == b.name }
}
