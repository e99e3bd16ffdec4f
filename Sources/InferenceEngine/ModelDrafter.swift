#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Draft tokens and, when they were sampled, the distributions they were drawn from.
public struct SpeculativeDraft: Sendable, Equatable {
    public var tokens: [Int32]
    /// One distribution per token when the drafter sampled; nil when it chose deterministically (one-hot).
    public var distributions: [TokenDistribution]?

    public init(tokens: [Int32], distributions: [TokenDistribution]? = nil) {
        precondition(distributions == nil || distributions!.count == tokens.count)
        self.tokens = tokens
        self.distributions = distributions
    }

    public static let empty = SpeculativeDraft(tokens: [])
}

/// Why a draft model cannot draft for a target.
public enum SpeculativeDraftError: Error, Equatable, CustomStringConvertible {
    case vocabularySizeMismatch(target: Int, draft: Int)
    case tokenMismatch(id: Int, target: String, draft: String)

    public var description: String {
        switch self {
        case .vocabularySizeMismatch(let target, let draft):
            return "the draft model's vocabulary has \(draft) tokens, the target's \(target): speculative decoding "
                + "needs the same vocabulary"
        case .tokenMismatch(let id, let target, let draft):
            return "token \(id) is \(String(reflecting: draft)) in the draft model but \(String(reflecting: target)) "
                + "in the target: speculative decoding needs the same tokenizer"
        }
    }
}

/// Drafts with a smaller (or more quantized) model of the target's vocabulary, for one sequence.
///
/// Keeps its own KV cache of the tokens it has processed. Each `draft` call keeps the cached prefix shared with the
/// context, drops the rest, prefills the missing tokens in one pass, then drafts one forward pass per token. It
/// processes all drafted tokens but the last, so after the target accepts m of k drafts the next call only drops the
/// rejected ones and prefills the one or two new tokens. Shares `model` with other drafters and sequences on the
/// same thread; not thread-safe.
///
/// Drafting is not a request's decode loop (that is `SequenceDecoder`): it picks each token by its own rule (argmax
/// with a confidence cut-off, or a sample whose distribution is returned) and keeps its cache across calls.
public final class ModelDrafter: SpeculativeDrafter {
    public let model: TransformerModel
    private let cache: KVCache
    private let buffers: ForwardBuffers
    /// Tokens whose keys and values are in the drafter's cache.
    public private(set) var cachedTokens: [Int32] = []
    /// Logits after the last cached token; nil until a pass ran (and after a reset).
    private var logits: UnsafePointer<Float>?
    /// `propose`'s random numbers when it samples.
    private var ownSampler: Sampler?

    /// - Parameter capacity: KV positions (default: the draft model's context length); drafts shrink to fit.
    public init(model: TransformerModel, capacity: Int? = nil) {
        self.model = model
        cache = model.makeCache(capacity: capacity)
        buffers = ForwardBuffers(config: model.config)
    }

    /// Keeps the first `count` cached tokens.
    private func truncate(to count: Int) {
        cache.truncate(to: count)
        cachedTokens.removeLast(cachedTokens.count - count)
        logits = nil
    }

    /// Runs `tokens` in one pass and keeps the last position's logits. A pass that fails on the draft model's
    /// device leaves no logits (and the cache as it was): drafting stops there, and the step goes on with the
    /// tokens drafted so far (none at worst), as plain decoding.
    @discardableResult
    private func run(_ tokens: [Int32]) -> Bool {
        let entry = BatchEntry(tokens: tokens, cache: cache, logits: .last)
        guard let result = try? model.forward(batch: [entry], buffers: buffers) else {
            logits = nil
            return false
        }
        logits = result[0]
        cachedTokens += tokens
        return true
    }

    /// Greedy drafting stops before a token (other than the first) whose draft probability is below this; 0 always
    /// drafts the full count. Saves draft passes on tokens the model is likely to reject.
    public var minimumConfidence: Float = 0

    /// Brings the drafter's cache in line with `context` (keeps the shared prefix, runs the rest in one pass), e.g.
    /// right after the prompt so that the first draft does not pay for the prompt.
    public func prepare(context: [Int32]) {
        let cached = cachedTokens
        if cached == context && logits != nil { return }
        var shared = 0
        let limit = min(cached.count, context.count - 1)
        while shared < limit && cached[shared] == context[shared] { shared += 1 }
        truncate(to: shared)
        run(Array(context[shared...]))
    }

    /// Softmax probability of `token` under `logits`.
    static func probability(of token: Int32, _ logits: UnsafePointer<Float>, _ count: Int) -> Float {
        let top = logits[Int(token)]
        var total: Float = 0
        for i in 0..<count { total += expf(logits[i] - top) }
        return 1 / total
    }

    /// Forgets the cached tokens (e.g. when its sequence ends and the drafter is reused for another).
    public func reset() {
        truncate(to: 0)
        ownSampler = nil
    }

    /// Throws unless `draft` has the same vocabulary size and token strings as `target`.
    public static func checkCompatible(target: TransformerModel, draft: TransformerModel) throws {
        let t = target.tokenizer.tokens
        let d = draft.tokenizer.tokens
        guard target.vocabularySize == draft.vocabularySize, t.count == d.count else {
            throw SpeculativeDraftError.vocabularySizeMismatch(
                target: target.vocabularySize, draft: draft.vocabularySize)
        }
        if let id = t.indices.first(where: { t[$0] != d[$0] }) {
            throw SpeculativeDraftError.tokenMismatch(id: id, target: t[id], draft: d[id])
        }
    }

    /// Proposes up to `k` tokens to follow `context` (the whole sequence: prompt and generated tokens). Greedy
    /// parameters draft the argmax (distributions nil); others sample from the draft model's distribution with the
    /// same parameters, using `sampler`'s random numbers, and return those distributions for rejection sampling.
    /// Returns fewer tokens (possibly none) when the cache cannot hold `context` plus the draft.
    public func draft(context: [Int32], k: Int, sampler: inout Sampler) -> SpeculativeDraft {
        precondition(!context.isEmpty, "drafting needs a context")
        let capacity = cache.capacity
        // Tokens 1…k-1 of the draft are processed; the last one is not.
        let k = min(k, capacity - context.count + 1)
        guard k > 0 else { return .empty }
        prepare(context: context)
        // The draft model's pass failed (its device): no draft this step.
        guard logits != nil else { return .empty }
        let greedy = sampler.parameters.isGreedy
        let vocabulary = model.vocabularySize
        var tokens: [Int32] = []
        var distributions: [TokenDistribution] = []
        tokens.reserveCapacity(k)
        while true {
            guard let logits else { break }
            if greedy {
                let token = Sampler.argmax(logits, count: vocabulary)
                // A draft the drafter itself doubts is likely rejected: stop rather than spend a pass on it.
                if !tokens.isEmpty && minimumConfidence > 0
                    && Self.probability(of: token, logits, vocabulary) < minimumConfidence
                {
                    break
                }
                tokens.append(token)
            } else {
                let q = sampler.distribution(logits, count: vocabulary)
                tokens.append(sampler.sample(from: q))
                distributions.append(q)
            }
            if tokens.count == k { break }
            // A failed pass leaves no logits: the loop ends with the tokens drafted so far.
            run([tokens[tokens.count - 1]])
        }
        return SpeculativeDraft(tokens: tokens, distributions: greedy ? nil : distributions)
    }

    /// `SpeculativeDrafter`: `draft(context:k:sampler:)` with the drafter's own sampler, seeded from
    /// `sampling.seed` (mixed, so its numbers differ from the request's) when first needed or when the parameters
    /// change; sampled drafts come with their distributions.
    public func propose(context: [Int32], count: Int, sampling: SamplingParameters) -> SpeculativeDraft {
        var own = sampling
        own.seed = sampling.seed ^ 0xD1B5_4A32_D192_ED03
        var sampler = ownSampler.flatMap { $0.parameters == own ? $0 : nil } ?? Sampler(parameters: own)
        let proposal = draft(context: context, k: count, sampler: &sampler)
        ownSampler = sampler
        return proposal
    }
}
