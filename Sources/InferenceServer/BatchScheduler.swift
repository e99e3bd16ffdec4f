import Foundation
import InferenceEngine
import LLMTokenizer
import Synchronization

/// The one thread that runs the model, scheduling per iteration (continuous batching): between two forward passes
/// it admits waiting requests into free slots of the running batch, then runs one step of every active sequence
/// in a single batched pass — a chunk of a new prompt (so a long prompt does not stall the streams already running)
/// or the next token, with its speculative drafts. With batching off it serves one sequence at a time, first come
/// first served, its prompt in one pass.
///
/// Embedding requests (`embed`) queue beside them and run between two iterations, one request per iteration,
/// each input in a forward pass of its own (`TransformerModel.pooledEmbedding`).
///
/// The decisions (admission, the prefill budget, retirement, shutdown) are `SchedulingPolicy`'s; this class holds
/// the lock, runs the model and writes to the channels. `shutDown` drains: running sequences finish as usual,
/// waiting requests and later submissions are answered 503 (`server_shutting_down`), and the thread ends.
final class BatchScheduler: @unchecked Sendable {
    struct Options: Sendable {
        /// Sequences decoded together; 1 = one at a time.
        var maxBatch: Int
        /// Prompt tokens run per iteration across all prefilling sequences (chunked prefill); nil = a whole prompt
        /// in one pass.
        var prefillChunk: Int?
        /// Draft tokens per step when a drafter is configured.
        var draftTokens: Int
        /// Most requests waiting for a slot; a request beyond them is refused (nil = no limit).
        var maxWaiting: Int? = nil
    }

    /// The answer to a request that waited when the server began to stop, or came after.
    static let shuttingDown = APIError(
        status: .serviceUnavailable, message: "The server is shutting down; retry on another instance.",
        type: "server_error", code: "server_shutting_down")

    /// The answer to the requests of a forward pass that failed on the engine's device.
    static func engineFailure(_ error: any Error) -> APIError {
        APIError(
            status: .internalServerError, message: "The engine's forward pass failed: \(error)", type: "server_error",
            code: "engine_failure")
    }

    private struct Job {
        var request: GenerationRequest
        var channel: GenerationChannel
    }

    /// An embedding request: the token ids of each input, answered with one vector each.
    private struct EmbeddingJob {
        var inputs: [[Int32]]
        var continuation: CheckedContinuation<[[Float]], any Error>
    }

    /// A request holding a batch slot.
    private final class Active {
        let job: Job
        let decoder: SequenceDecoder
        var detokenizer: StreamingDetokenizer
        /// Tokens whose text is held back (an incomplete UTF-8 character), sent with the next piece.
        var heldTokens = 0

        init(job: Job, decoder: SequenceDecoder, tokenizer: Tokenizer) {
            self.job = job
            self.decoder = decoder
            detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        }
    }

    private let model: TransformerModel
    private let options: Options
    private let prefixCache: PrefixCache?
    private let makeDrafter: (() -> SpeculativeDrafter)?
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var policy: SchedulingPolicy
    private var waitingJobs: [SchedulingPolicy.Ticket: Job] = [:]
    private var embeddingJobs: [EmbeddingJob] = []
    /// Iterations the loop may still run before it holds (nil: no hold). Tests use it to line requests up.
    private var iterationsAllowed: Int?
    private var exited = false
    let statistics = Mutex(SchedulerStatistics())

    /// - Parameters:
    ///   - prefixCache: reuse cached prompt prefixes (nil: every prompt is prefilled in full).
    ///   - makeDrafter: a drafter for each new sequence (speculative decoding), or nil.
    init(
        model: TransformerModel, options: Options, prefixCache: PrefixCache?,
        makeDrafter: (() -> SpeculativeDrafter)?
    ) {
        self.model = model
        self.options = options
        self.prefixCache = prefixCache
        self.makeDrafter = makeDrafter
        policy = SchedulingPolicy(
            maxBatch: options.maxBatch, maxWaiting: options.maxWaiting, prefillChunk: options.prefillChunk)
        statistics.withLock { $0.maxBatch = options.maxBatch }
        let thread = Thread { [self] in self.run() }
        thread.name = "llmperf-inference"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    var load: SchedulerLoad {
        locked {
            SchedulerLoad(waiting: policy.waiting.count + embeddingJobs.count, running: policy.running.count)
        }
    }

    /// Holds (true) or releases the loop between iterations.
    func setPaused(_ value: Bool) {
        locked {
            iterationsAllowed = value ? 0 : nil
            condition.broadcast()
        }
    }

    /// Lets a held loop run `count` more iterations, then hold again.
    func allowIterations(_ count: Int) {
        locked {
            iterationsAllowed = (iterationsAllowed ?? 0) + count
            condition.broadcast()
        }
    }

    /// Queues a request, or says why not (nothing queued).
    func submit(_ request: GenerationRequest, to channel: GenerationChannel) -> SchedulingPolicy.Submission {
        locked {
            let submission = policy.submit()
            if case .queued(let ticket) = submission {
                waitingJobs[ticket] = Job(request: request, channel: channel)
                condition.signal()
            }
            return submission
        }
    }

    /// The pooled embedding of each input (in order), computed on the inference thread between two iterations;
    /// refused with 503 once shutdown began. Every input must be non-empty and within the vocabulary.
    func embed(_ inputs: [[Int32]]) async throws -> [[Float]] {
        try await withCheckedThrowingContinuation { continuation in
            let queued = locked {
                guard !policy.isShuttingDown else { return false }
                embeddingJobs.append(EmbeddingJob(inputs: inputs, continuation: continuation))
                condition.signal()
                return true
            }
            if !queued { continuation.resume(throwing: Self.shuttingDown) }
        }
    }

    /// Starts the shutdown (see the type's comment); returns at once. A hold is lifted so the drain runs.
    func shutDown() {
        let (answered, embeddings) = locked {
            let tickets = policy.shutDown()
            condition.broadcast()
            let embeddings = embeddingJobs
            embeddingJobs = []
            return (tickets.compactMap { waitingJobs.removeValue(forKey: $0) }, embeddings)
        }
        for job in answered { job.channel.fail(Self.shuttingDown) }
        for job in embeddings { job.continuation.resume(throwing: Self.shuttingDown) }
    }

    /// True once the thread has ended (after `shutDown` and the drain).
    var hasExited: Bool { locked { exited } }

    private func run() {
        let buffers = ForwardBuffers(config: model.config)
        var freeCaches: [KVCache] = []
        var active: [SchedulingPolicy.Ticket: Active] = [:]
        while true {
            condition.lock()
            while !policy.isShuttingDown && ((policy.isIdle && embeddingJobs.isEmpty) || iterationsAllowed == 0) {
                condition.wait()
            }
            if policy.isDone {
                exited = true
                condition.unlock()
                return
            }
            if let allowed = iterationsAllowed, allowed > 0 { iterationsAllowed = allowed - 1 }
            let admitted = policy.admit().map { ($0, waitingJobs.removeValue(forKey: $0)!) }
            let order = policy.running
            let embedding = embeddingJobs.isEmpty ? nil : embeddingJobs.removeFirst()
            let prefillChunk = policy.prefillChunk  // read under the lock: `policy` is shared with submitters
            condition.unlock()

            if let embedding {
                // In prefill-sized passes: a long input does not grow the shared buffers past a chat prefill's. A pass
                // that fails on the device answers the request with a 500, as a generation's does.
                do {
                    let vectors = try embedding.inputs.map {
                        try model.pooledEmbedding(tokens: $0, buffers: buffers, chunk: prefillChunk)
                    }
                    embedding.continuation.resume(returning: vectors)
                } catch {
                    statistics.withLock { $0.failedPasses += 1 }
                    embedding.continuation.resume(throwing: Self.engineFailure(error))
                }
            }

            for (ticket, job) in admitted {
                active[ticket] = start(job, cache: freeCaches.popLast() ?? model.makeCache())
            }
            let sequences = order.map { active[$0]! }
            let steps = policy.plan(sequences.map(Self.phase))
            var stepping: [Active] = []
            var entries: [BatchEntry] = []
            var prefillTokens = 0
            var decodeRows = 0
            for (sequence, step) in zip(sequences, steps) {
                switch step {
                case .idle: continue
                case .cancel: sequence.decoder.cancel()
                case .prefill(let tokens):
                    entries.append(sequence.decoder.nextStep(prefillBudget: tokens)!)
                    stepping.append(sequence)
                    prefillTokens += tokens
                case .decode:
                    entries.append(sequence.decoder.nextStep()!)
                    stepping.append(sequence)
                    decodeRows += 1
                }
            }
            if !entries.isEmpty {
                forward(stepping, entries, prefillTokens: prefillTokens, decodeRows: decodeRows, buffers: buffers)
            }

            var retired: [SchedulingPolicy.Ticket] = []
            for (ticket, sequence) in zip(order, sequences) {
                guard let retirement = SchedulingPolicy.retirement(of: sequence.decoder.state) else { continue }
                if case .finish(let reason) = retirement { finish(sequence, reason: reason) }
                freeCaches.append(sequence.decoder.cache)
                active[ticket] = nil
                retired.append(ticket)
            }
            locked { for ticket in retired { policy.retire(ticket) } }
        }
    }

    /// A decoder for an admitted request; one whose client already left is cancelled at once (it retires in this
    /// iteration without a step).
    private func start(_ job: Job, cache: KVCache) -> Active {
        let request = job.request
        let parameters = GenerationParameters(
            maxTokens: max(0, min(request.maxTokens, model.contextLength - request.prompt.tokenIDs.count)),
            sampling: SamplingParameters(
                temperature: Float(request.temperature ?? 0), topP: Float(request.topP ?? 1),
                seed: request.seed ?? 0))
        let gone = job.channel.isCancelled
        request.timeline?.markAdmitted()
        let decoder = SequenceDecoder(
            model: model, cache: cache, promptTokens: request.prompt.tokenIDs, parameters: parameters,
            ignoreEndOfSequence: request.ignoreEOS, prefixCache: gone ? nil : prefixCache,
            drafter: gone ? nil : makeDrafter?(), draftTokens: options.draftTokens)
        if gone { decoder.cancel() }
        return Active(job: job, decoder: decoder, tokenizer: model.tokenizer)
    }

    private static func phase(_ sequence: Active) -> SchedulingPolicy.Phase {
        if sequence.job.channel.isCancelled { return .clientGone }
        switch sequence.decoder.state {
        case .prefilling: return .prefilling(remaining: sequence.decoder.remainingPrompt)
        case .decoding: return .decoding
        case .finished: return .finished
        }
    }

    /// One batched forward pass of every stepping sequence; their new tokens go to their channels. A pass that
    /// fails on the engine's device (a GPU lost or out of memory) fails those requests with a 500 and cancels their
    /// sequences; the server goes on, and later passes try again.
    private func forward(
        _ stepping: [Active], _ entries: [BatchEntry], prefillTokens: Int, decodeRows: Int, buffers: ForwardBuffers
    ) {
        let logits: [UnsafePointer<Float>?]
        do {
            logits = try model.forward(batch: entries, buffers: buffers)
        } catch {
            let failure = Self.engineFailure(error)
            for sequence in stepping {
                sequence.decoder.cancel()
                sequence.job.channel.fail(failure)
            }
            statistics.withLock { $0.failedPasses += 1 }
            return
        }
        var speculation = SpeculationStatistics()
        for (sequence, row) in zip(stepping, logits) {
            sequence.job.request.timeline?.markStep(batchSize: stepping.count)
            let before = sequence.decoder.speculation
            let tokens = sequence.decoder.complete(logits: row)
            speculation.drafted += sequence.decoder.speculation.drafted - before.drafted
            speculation.accepted += sequence.decoder.speculation.accepted - before.accepted
            emit(tokens, for: sequence)
        }
        statistics.withLock {
            $0.iteration(
                sequences: entries.count, decodeRows: decodeRows, prefillTokens: prefillTokens,
                speculation: speculation)
            if let prefixCache { $0.prefixCache = prefixCache.statistics }
        }
    }

    private func emit(_ tokens: [Int32], for sequence: Active) {
        if !tokens.isEmpty { sequence.job.request.timeline?.markTokens() }
        for token in tokens {
            let text = sequence.detokenizer.append(token)
            if text.isEmpty {
                sequence.heldTokens += 1
            } else {
                sequence.job.channel.yield(GeneratedPiece(text: text, tokenCount: sequence.heldTokens + 1))
                sequence.heldTokens = 0
            }
        }
    }

    private func finish(_ sequence: Active, reason: GenerationFinish.Reason) {
        let rest = sequence.detokenizer.flush()
        if !rest.isEmpty || sequence.heldTokens > 0 {
            sequence.job.channel.yield(GeneratedPiece(text: rest, tokenCount: sequence.heldTokens))
            sequence.heldTokens = 0
        }
        var details = UsageDetails()
        if prefixCache != nil { details.cachedPromptTokens = sequence.decoder.cachedPromptTokens }
        if makeDrafter != nil {
            details.extra["speculative_drafted_tokens"] = sequence.decoder.speculation.drafted
            details.extra["speculative_accepted_tokens"] = sequence.decoder.speculation.accepted
        }
        sequence.job.channel.finish(GenerationFinish(reason: reason, usageDetails: details))
    }
}
