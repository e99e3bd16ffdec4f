/// One request's generation, split into steps so that a scheduler can run many sequences in one batched forward
/// pass: `nextStep` says which tokens this sequence needs run (a chunk of its prompt, or its newest token plus any
/// speculative drafts), the scheduler runs every sequence's step together (`TransformerModel.forward(batch:)`), and
/// `complete` turns the returned logits into new tokens.
///
/// Not thread-safe: used on the one inference thread.
public final class SequenceDecoder {
    /// Where the sequence is.
    public enum State: Equatable, Sendable {
        /// Prompt tokens still to run.
        case prefilling
        /// Generating.
        case decoding
        case finished(FinishReason)
    }

    public let model: TransformerModel
    /// The sequence's keys and values (positions `0..<cache.count` hold `context[0..<cache.count]`).
    public let cache: KVCache
    public let promptTokens: [Int32]
    public let parameters: GenerationParameters
    /// Treat end-of-sequence tokens as ordinary tokens (fixed-length answers for benchmarks).
    public let ignoreEndOfSequence: Bool
    public private(set) var state: State
    /// Generated tokens so far (end-of-sequence excluded).
    public private(set) var generated: [Int32] = []
    /// Prompt tokens whose keys and values came from the prefix cache instead of a forward pass.
    public let cachedPromptTokens: Int
    /// Speculative decoding totals for this request.
    public private(set) var speculation = SpeculationStatistics()

    private var sampler: Sampler
    private let prefixCache: PrefixCache?
    private let drafter: SpeculativeDrafter?
    private let draftTokens: Int
    /// Prompt tokens already run.
    private var prefilled: Int
    /// The newest generated token, chosen but not yet run through the model.
    private var pending: Int32?
    /// What the current step sent: prompt tokens, or the pending token plus drafts.
    private var inFlight: (prompt: Int, drafts: [Int32], draftDistributions: [TokenDistribution]?)?

    /// - Parameters:
    ///   - cache: an empty KV cache (or one to be reset) of this model, owned by this sequence until it finishes.
    ///   - prefixCache: restore the longest cached prefix of the prompt and store the prompt's blocks afterwards.
    ///   - drafter: speculative decoding: proposes up to `draftTokens` tokens each step, verified in one pass.
    public init(
        model: TransformerModel, cache: KVCache, promptTokens: [Int32], parameters: GenerationParameters,
        ignoreEndOfSequence: Bool = false, prefixCache: PrefixCache? = nil, drafter: SpeculativeDrafter? = nil,
        draftTokens: Int = 4
    ) {
        precondition(!promptTokens.isEmpty, "empty prompt")
        self.model = model
        self.cache = cache
        self.promptTokens = promptTokens
        self.parameters = parameters
        self.ignoreEndOfSequence = ignoreEndOfSequence
        self.prefixCache = prefixCache
        self.drafter = drafter
        self.draftTokens = max(0, draftTokens)
        sampler = Sampler(parameters: parameters.sampling)
        cache.truncate(to: 0)
        let restored = prefixCache?.restore(prefixOf: promptTokens, into: cache) ?? 0
        cachedPromptTokens = restored
        prefilled = restored
        if promptTokens.count > cache.capacity - 1 || parameters.maxTokens <= 0 {
            state = .finished(.length)
        } else {
            state = .prefilling
        }
    }

    /// Prompt tokens not yet run.
    public var remainingPrompt: Int { promptTokens.count - prefilled }

    /// The tokens to run next, or nil when finished. A prefilling sequence runs at most `prefillBudget` prompt
    /// tokens (at least one); `logits` is `.none` until the chunk that ends the prompt.
    public func nextStep(prefillBudget: Int = .max) -> BatchEntry? {
        precondition(inFlight == nil, "nextStep() twice without complete()")
        switch state {
        case .finished:
            return nil
        case .prefilling:
            let count = min(remainingPrompt, max(1, prefillBudget))
            let chunk = Array(promptTokens[prefilled..<(prefilled + count)])
            inFlight = (count, [], nil)
            return BatchEntry(
                tokens: chunk, cache: cache, logits: prefilled + count == promptTokens.count ? .last : .none)
        case .decoding:
            guard let pending else { preconditionFailure("decoding without a pending token") }
            var draft = SpeculativeDraft.empty
            // Room for the pending token, the drafts, and the token after them.
            let room = min(cache.capacity - cache.count - 1, parameters.maxTokens - generated.count - 1)
            if let drafter, draftTokens > 0, room > 0 {
                draft = drafter.propose(
                    context: promptTokens + generated, count: min(draftTokens, room), sampling: parameters.sampling)
            }
            inFlight = (0, draft.tokens, draft.distributions)
            return BatchEntry(
                tokens: [pending] + draft.tokens, cache: cache, logits: draft.tokens.isEmpty ? .last : .all)
        }
    }

    /// Consumes the logits of the step `nextStep` returned and returns the tokens it generated, in order (none for
    /// a prompt chunk that did not end the prompt; several when drafts were accepted).
    public func complete(logits: UnsafePointer<Float>?) -> [Int32] {
        guard let step = inFlight else { preconditionFailure("complete() without nextStep()") }
        inFlight = nil
        let vocabulary = model.vocabularySize
        if step.prompt > 0 {
            prefilled += step.prompt
            guard prefilled == promptTokens.count else { return [] }
            prefixCache?.store(tokens: promptTokens, from: cache)
            drafter?.prepare(context: promptTokens)
            guard let logits else { preconditionFailure("the last prompt chunk needs logits") }
            state = .decoding
            return accept([sampler.sample(logits, count: vocabulary)])
        }
        guard let logits else { preconditionFailure("a decode step needs logits") }
        if step.drafts.isEmpty {
            return accept([sampler.sample(logits, count: vocabulary)])
        }
        let outcome = SpeculativeVerifier.verify(
            drafts: step.drafts, draftDistributions: step.draftDistributions, targetLogits: logits,
            vocabularySize: vocabulary, sampler: &sampler)
        speculation.drafted += step.drafts.count
        speculation.accepted += outcome.accepted
        // The cache holds the pending token and every draft; keep the accepted ones.
        cache.truncate(to: cache.count - (step.drafts.count - outcome.accepted))
        return accept(outcome.tokens)
    }

    /// Appends `tokens` (the last one becomes pending) until an end-of-sequence token or the length limit.
    private func accept(_ tokens: [Int32]) -> [Int32] {
        var emitted: [Int32] = []
        let eos = model.eosTokenIDs
        for token in tokens {
            if !ignoreEndOfSequence && eos.contains(token) {
                state = .finished(.stop)
                pending = nil
                return emitted
            }
            generated.append(token)
            emitted.append(token)
            if generated.count >= parameters.maxTokens || cache.count >= cache.capacity {
                state = .finished(.length)
                pending = nil
                return emitted
            }
        }
        pending = tokens.last
        return emitted
    }

    /// Stops the sequence (the client went away); the cache may be reused.
    public func cancel() {
        inFlight = nil
        state = .finished(.cancelled)
    }

    /// Runs this sequence alone until it finishes, one forward pass per step (the prompt in chunks of at most
    /// `prefillBudget` tokens). `onTokens` receives the tokens of each pass that generated some; returning false
    /// cancels the sequence. Returns why it finished; throws what the model's device failed with (the sequence is
    /// then cancelled).
    @discardableResult
    public func run(
        buffers: ForwardBuffers, prefillBudget: Int = .max, onTokens: ([Int32]) -> Bool = { _ in true }
    ) throws -> FinishReason {
        while let entry = nextStep(prefillBudget: prefillBudget) {
            let logits: [UnsafePointer<Float>?]
            do {
                logits = try model.forward(batch: [entry], buffers: buffers)
            } catch {
                cancel()
                throw error
            }
            let tokens = complete(logits: logits[0])
            if !tokens.isEmpty && !onTokens(tokens) { cancel() }
        }
        guard case .finished(let reason) = state else { preconditionFailure("no step left before the end") }
        return reason
    }

    /// Runs sequences to completion, batched: each iteration runs one step of every unfinished sequence in a single
    /// forward pass. `onTokens` receives each sequence's index and new tokens. Throws what the model's device failed
    /// with (every unfinished sequence is then cancelled).
    public static func runToCompletion(
        _ sequences: [SequenceDecoder], buffers: ForwardBuffers, prefillBudget: Int = .max,
        onTokens: (Int, [Int32]) -> Void = { _, _ in }
    ) throws {
        guard let model = sequences.first?.model else { return }
        while true {
            var indices: [Int] = []
            var entries: [BatchEntry] = []
            for (i, sequence) in sequences.enumerated() {
                if let entry = sequence.nextStep(prefillBudget: prefillBudget) {
                    indices.append(i)
                    entries.append(entry)
                }
            }
            if entries.isEmpty { return }
            let logits: [UnsafePointer<Float>?]
            do {
                logits = try model.forward(batch: entries, buffers: buffers)
            } catch {
                for i in indices { sequences[i].cancel() }
                throw error
            }
            for (k, i) in indices.enumerated() {
                let tokens = sequences[i].complete(logits: logits[k])
                if !tokens.isEmpty { onTokens(i, tokens) }
            }
        }
    }
}

/// Proposes tokens to follow a context, for speculative decoding.
public protocol SpeculativeDrafter: AnyObject {
    /// Up to `count` tokens likely to follow `context`, and for a drafter that samples, the distribution each was
    /// drawn from (nil when the proposal is deterministic).
    func propose(context: [Int32], count: Int, sampling: SamplingParameters) -> SpeculativeDraft
    /// Called once the prompt has run, with the prompt: a drafter with state of its own catches up here, so the
    /// first draft does not pay for the whole prompt.
    func prepare(context: [Int32])
}

extension SpeculativeDrafter {
    /// Nothing to prepare by default.
    public func prepare(context: [Int32]) {}
}

/// Drafted and accepted speculative tokens (sums over steps or requests).
public struct SpeculationStatistics: Sendable, Equatable {
    public var drafted = 0
    public var accepted = 0

    public init(drafted: Int = 0, accepted: Int = 0) {
        self.drafted = drafted
        self.accepted = accepted
    }

    public static func += (lhs: inout SpeculationStatistics, rhs: SpeculationStatistics) {
        lhs.drafted += rhs.drafted
        lhs.accepted += rhs.accepted
    }
}
