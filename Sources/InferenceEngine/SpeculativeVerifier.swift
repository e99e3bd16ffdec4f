/// What one verification pass decided for one sequence.
///
/// The pass ran the target on `[last, d1, …, dk]` (the sequence's last token, not yet in the target's cache, then
/// the draft), so the target's cache gained `1 + drafted` positions; keep `keptPositions` of them (truncate the cache
/// to its count before the pass plus `keptPositions`) and append `tokens` to the sequence. `tokens.last` is the
/// sequence's new last token, not yet processed, like a `SequenceDecoder`'s pending token.
public struct SpeculativeOutcome: Sendable, Equatable {
    /// Draft tokens proposed.
    public var drafted: Int
    /// Leading draft tokens the target accepted (`0...drafted`).
    public var accepted: Int
    /// The accepted draft tokens, then the one token the target chose (a correction, or a bonus when all were
    /// accepted): `accepted + 1` tokens.
    public var tokens: [Int32]

    public init(drafted: Int, accepted: Int, tokens: [Int32]) {
        precondition(accepted >= 0 && accepted <= drafted && tokens.count == accepted + 1)
        self.drafted = drafted
        self.accepted = accepted
        self.tokens = tokens
    }

    /// The token the target chose after the accepted drafts.
    public var next: Int32 { tokens[tokens.count - 1] }

    /// Positions of the verification pass whose keys and values stay valid: the last token and the accepted drafts.
    public var keptPositions: Int { 1 + accepted }
}

/// Decides which draft tokens the target model accepts.
///
/// `targetLogits` holds the target's `drafts.count + 1` rows of `vocabularySize` values: row 0 after the sequence's
/// last token, row i after draft token i. Greedy parameters give exactly the tokens plain greedy decoding gives (same
/// argmax and tie-break as `Sampler.argmax`); other parameters use rejection sampling, so every emitted token follows
/// the target's distribution (`Sampler.distribution`) whatever the draft.
public enum SpeculativeVerifier {
    /// Greedy verification for greedy parameters (no random numbers drawn), rejection sampling otherwise.
    /// - Parameter draftDistributions: for each draft token, the distribution it was drawn from; `nil` (or a
    ///   distribution that gives the token no mass) means the drafter chose it deterministically (one-hot).
    public static func verify(
        drafts: [Int32], draftDistributions: [TokenDistribution]? = nil, targetLogits: UnsafePointer<Float>,
        vocabularySize: Int, sampler: inout Sampler
    ) -> SpeculativeOutcome {
        if sampler.parameters.isGreedy {
            return verifyGreedy(drafts: drafts, targetLogits: targetLogits, vocabularySize: vocabularySize)
        }
        return verifySampled(
            drafts: drafts, draftDistributions: draftDistributions, targetLogits: targetLogits,
            vocabularySize: vocabularySize, sampler: &sampler)
    }

    /// Accepts the longest prefix of `drafts` in which each token is the argmax of the row before it; the next token
    /// is the argmax of the row after the accepted prefix.
    public static func verifyGreedy(drafts: [Int32], targetLogits: UnsafePointer<Float>, vocabularySize: Int)
        -> SpeculativeOutcome
    {
        var accepted = 0
        var next = Sampler.argmax(targetLogits, count: vocabularySize)
        while accepted < drafts.count && drafts[accepted] == next {
            accepted += 1
            next = Sampler.argmax(targetLogits + accepted * vocabularySize, count: vocabularySize)
        }
        return SpeculativeOutcome(
            drafted: drafts.count, accepted: accepted, tokens: Array(drafts[..<accepted]) + [next])
    }

    /// Rejection sampling: draft token i+1 is accepted with probability min(1, p(d)/q(d)), p being the target's
    /// distribution of row i and q the draft's; at the first rejection the next token is drawn from
    /// normalize(max(0, p − q)); when all are accepted, a bonus token is drawn from the last row. Randomness comes
    /// from `sampler` (one number per examined draft token, one for the next token), so a seeded sampler makes the
    /// result reproducible. Target distributions are computed only for the rows examined.
    public static func verifySampled(
        drafts: [Int32], draftDistributions: [TokenDistribution]?, targetLogits: UnsafePointer<Float>,
        vocabularySize: Int, sampler: inout Sampler
    ) -> SpeculativeOutcome {
        precondition(draftDistributions == nil || draftDistributions!.count == drafts.count)
        for (i, token) in drafts.enumerated() {
            let p = sampler.distribution(targetLogits + i * vocabularySize, count: vocabularySize)
            var q = draftDistributions?[i] ?? .oneHot(token)
            var qToken = q.probability(of: token)
            if !(qToken > 0) {
                q = .oneHot(token)
                qToken = 1
            }
            let pToken = p.probability(of: token)
            if sampler.nextUnit() * qToken < pToken { continue }
            let next = residual(p, minus: q, vocabularySize: vocabularySize).map { sampler.sample(from: $0) }
            return SpeculativeOutcome(
                drafted: drafts.count, accepted: i, tokens: Array(drafts[..<i]) + [next ?? sampler.sample(from: p)])
        }
        let bonus = sampler.sample(targetLogits + drafts.count * vocabularySize, count: vocabularySize)
        return SpeculativeOutcome(drafted: drafts.count, accepted: drafts.count, tokens: drafts + [bonus])
    }

    /// normalize(max(0, p − q)) over p's tokens (in p's order), or nil when nothing is left.
    static func residual(_ p: TokenDistribution, minus q: TokenDistribution, vocabularySize: Int)
        -> TokenDistribution?
    {
        var qDense = [Double](repeating: 0, count: vocabularySize)
        for (token, weight) in zip(q.tokens, q.weights) { qDense[Int(token)] += weight / q.total }
        var tokens: [Int32] = []
        var weights: [Double] = []
        for (token, weight) in zip(p.tokens, p.weights) {
            let left = weight / p.total - qDense[Int(token)]
            if left > 0 {
                tokens.append(token)
                weights.append(left)
            }
        }
        guard !tokens.isEmpty else { return nil }
        return TokenDistribution(tokens: tokens, weights: weights)
    }
}

// `SpeculationStatistics` (drafted, accepted) is declared with `SequenceDecoder`.
extension SpeculationStatistics {
    /// `accepted / drafted`, nil before anything was drafted.
    public var acceptanceRate: Double? { drafted > 0 ? Double(accepted) / Double(drafted) : nil }

    /// Adds one verification pass.
    public mutating func record(_ outcome: SpeculativeOutcome) {
        drafted += outcome.drafted
        accepted += outcome.accepted
    }

    public static func + (a: SpeculationStatistics, b: SpeculationStatistics) -> SpeculationStatistics {
        SpeculationStatistics(drafted: a.drafted + b.drafted, accepted: a.accepted + b.accepted)
    }
}
