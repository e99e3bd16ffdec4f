import LLMTokenizer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Picks tokens from logits: greedy, or temperature / top-k / top-p sampling from a seeded generator.
public struct Sampler {
    public let parameters: SamplingParameters
    private var random: SplitMix64

    public init(parameters: SamplingParameters) {
        self.parameters = parameters
        random = SplitMix64(state: parameters.seed &+ 0x9E37_79B9_7F4A_7C15)
    }

    mutating func nextRandom() -> UInt64 { random.next() }

    /// A uniform number in [0, 1).
    mutating func nextUnit() -> Double { Double(nextRandom() >> 11) * 0x1p-53 }

    /// The first index of the largest logit (NaNs never win; 0 when no logit beats -infinity): the maximum
    /// sixteen lanes at a time, then the first place that holds it. (One compare-and-branch per logit took 27 µs
    /// of a decode step over a 49152-token vocabulary.)
    public static func argmax(_ logits: UnsafePointer<Float>, count: Int) -> Int32 {
        var maxima = SIMD16<Float>(repeating: -.infinity)
        let raw = UnsafeRawPointer(logits)
        var i = 0
        while i + 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            maxima = maxima.replacing(with: v, where: v .> maxima)
            i += 16
        }
        var maximum = -Float.infinity
        for l in 0..<16 where maxima[l] > maximum { maximum = maxima[l] }
        while i < count {
            if logits[i] > maximum { maximum = logits[i] }
            i += 1
        }
        if maximum == -.infinity { return 0 }
        for j in 0..<count where logits[j] == maximum { return Int32(j) }
        return 0
    }

    /// Picks a token from `logits` (`count` values): the argmax when greedy (no random number drawn), else a draw
    /// from `distribution(_:count:)` (one random number).
    public mutating func sample(_ logits: UnsafePointer<Float>, count: Int) -> Int32 {
        if parameters.isGreedy { return Self.argmax(logits, count: count) }
        return sample(from: candidates(logits, count: count))
    }

    /// Draws a token from `distribution` (one random number); a distribution from `distribution(_:count:)` of
    /// non-greedy parameters gives the token `sample(_:count:)` would have given from the same state.
    public mutating func sample(from distribution: TokenDistribution) -> Int32 {
        var r = nextUnit() * distribution.total
        for (i, q) in distribution.weights.enumerated() {
            r -= q
            if r < 0 { return distribution.tokens[i] }
        }
        return distribution.tokens[distribution.tokens.count - 1]
    }

    /// The distribution `sample(_:count:)` draws from: temperature, top-k and top-p applied; one-hot on the argmax
    /// when greedy. Sparse: only tokens that can be drawn are listed.
    public func distribution(_ logits: UnsafePointer<Float>, count: Int) -> TokenDistribution {
        if parameters.isGreedy { return .oneHot(Self.argmax(logits, count: count)) }
        return candidates(logits, count: count)
    }

    /// The `k` largest logits, largest first, equal logits in id order: the first `k` of a stable descending sort,
    /// found in one pass that keeps them sorted (a vocabulary of 49152 takes tens of microseconds, not milliseconds).
    static func top(_ k: Int, of logits: UnsafePointer<Float>, count: Int) -> [(id: Int32, logit: Float)] {
        var kept: [(id: Int32, logit: Float)] = []
        kept.reserveCapacity(k + 1)
        for i in 0..<count {
            let logit = logits[i]
            if kept.count == k {
                // Ties with the smallest kept logit lose to it (it has the lower id).
                guard logit > kept[k - 1].logit else { continue }
                kept.removeLast()
            }
            // After every kept logit >= this one, so that equal logits stay in id order.
            var position = kept.count
            while position > 0 && kept[position - 1].logit < logit { position -= 1 }
            kept.insert((Int32(i), logit), at: position)
        }
        return kept
    }

    /// The tokens a non-greedy draw can pick, most likely first, with their unnormalised weights.
    private func candidates(_ logits: UnsafePointer<Float>, count: Int) -> TokenDistribution {
        let p = parameters
        var candidates: [(id: Int32, logit: Float)]
        if p.topK > 0 && p.topK < count {
            candidates = Self.top(p.topK, of: logits, count: count)
        } else {
            candidates = (0..<count).map { (Int32($0), logits[$0]) }
            candidates.sort { $0.logit > $1.logit }
        }
        let maxLogit = candidates[0].logit
        var probabilities = candidates.map { exp(Double(($0.logit - maxLogit) / p.temperature)) }
        if p.topP < 1 {
            let total = probabilities.reduce(0, +)
            var cumulative = 0.0
            var keep = probabilities.count
            for (i, q) in probabilities.enumerated() {
                cumulative += q / total
                if cumulative >= Double(p.topP) {
                    keep = i + 1
                    break
                }
            }
            probabilities.removeLast(probabilities.count - keep)
        }
        return TokenDistribution(tokens: candidates.prefix(probabilities.count).map(\.id), weights: probabilities)
    }
}

extension SamplingParameters {
    /// Whether `Sampler` picks the argmax (temperature 0 or top-k 1) without drawing random numbers.
    public var isGreedy: Bool { temperature <= 0 || topK == 1 }
}

/// A distribution over token ids, stored sparsely: the tokens that can be drawn and their relative weights.
public struct TokenDistribution: Sendable, Equatable {
    /// Tokens with a nonzero weight (from `Sampler`: most likely first).
    public let tokens: [Int32]
    /// Unnormalised weights of `tokens`, all >= 0 (a weight that underflowed is 0).
    public let weights: [Double]
    /// Sum of `weights`.
    public let total: Double

    public init(tokens: [Int32], weights: [Double]) {
        precondition(tokens.count == weights.count && !tokens.isEmpty, "a distribution needs tokens and weights")
        self.tokens = tokens
        self.weights = weights
        total = weights.reduce(0, +)
    }

    /// The tokens of `probabilities` (indexed by token id) with a probability above 0.
    public init(dense probabilities: [Float]) {
        var tokens: [Int32] = []
        var weights: [Double] = []
        for (id, probability) in probabilities.enumerated() where probability > 0 {
            tokens.append(Int32(id))
            weights.append(Double(probability))
        }
        if tokens.isEmpty {
            tokens = [0]
            weights = [0]
        }
        self.init(tokens: tokens, weights: weights)
    }

    /// All the mass on `token` (what a deterministic drafter proposes, or a greedy sampler picks).
    public static func oneHot(_ token: Int32) -> TokenDistribution {
        TokenDistribution(tokens: [token], weights: [1])
    }

    /// Probability of `token` (0 when it cannot be drawn). Linear in the number of tokens.
    public func probability(of token: Int32) -> Double {
        guard total > 0, let i = tokens.firstIndex(of: token) else { return 0 }
        return weights[i] / total
    }

    /// Probabilities of token ids `0..<count`.
    public func dense(count: Int) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        guard total > 0 else { return out }
        for (token, weight) in zip(tokens, weights) { out[Int(token)] += weight / total }
        return out
    }
}
