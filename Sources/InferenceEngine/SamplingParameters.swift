/// How the next token is chosen. `temperature <= 0` means greedy (argmax).
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (0 = all).
    public var topK: Int
    /// Keep the smallest set of tokens whose probability reaches `topP` (1 = all).
    public var topP: Float
    /// Seed of the random generator; the same seed and inputs give the same tokens.
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int = 40, topP: Float = 0.95, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)
}

/// Limits and sampling for one completion. Stop sequences are text, applied by the server to the decoded pieces
/// (`StopSequenceMatcher`), not here.
public struct GenerationParameters: Sendable, Equatable {
    public var maxTokens: Int
    public var sampling: SamplingParameters

    public init(maxTokens: Int = 128, sampling: SamplingParameters = .greedy) {
        self.maxTokens = maxTokens
        self.sampling = sampling
    }
}

/// Why a completion ended.
public enum FinishReason: String, Sendable, Equatable {
    /// End-of-sequence token or a stop string.
    case stop
    /// `maxTokens` reached, or the context is full.
    case length
    /// The caller's callback asked to stop.
    case cancelled
}
