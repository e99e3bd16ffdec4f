import Foundation
import InferenceEngine
import Synchronization

/// The one thread that runs the model, scheduling per iteration (continuous batching): between two forward passes
/// it admits waiting requests into free slots of the running batch, then runs one step of every active sequence
/// in a single batched pass — a chunk of a new prompt (so a long prompt does not stall the streams already running)
/// or the next token, with its speculative drafts. With batching off it serves one sequence at a time, first come
/// first served, its prompt in one pass.
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

    private struct Job {
        var request: GenerationRequest
        var channel: GenerationChannel
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
    private var queue: [Job] = []
    private var activeCount = 0
    /// Tests hold the loop so that requests queue up and are admitted together.
    private var paused = false
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
        statistics.withLock { $0.maxBatch = options.maxBatch }
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "llmperf-inference"
        thread.stackSize = 8 << 20
        thread.start()
    }

    var load: SchedulerLoad {
        condition.lock()
        defer { condition.unlock() }
        return SchedulerLoad(waiting: queue.count, running: activeCount)
    }

    /// Holds (true) or releases the loop between iterations.
    func setPaused(_ value: Bool) {
        condition.lock()
        paused = value
        condition.broadcast()
        condition.unlock()
    }

    /// Queues a request; false (and nothing queued) when `maxWaiting` requests already wait.
    func submit(_ request: GenerationRequest, to channel: GenerationChannel) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if let maxWaiting = options.maxWaiting, queue.count >= maxWaiting { return false }
        queue.append(Job(request: request, channel: channel))
        condition.signal()
        return true
    }

    private func run() {
        let buffers = ForwardBuffers(config: model.config)
        var freeCaches: [KVCache] = []
        var active: [Active] = []
        while true {
            condition.lock()
            while (queue.isEmpty && active.isEmpty) || paused { condition.wait() }
            var admitted: [Job] = []
            while active.count + admitted.count < options.maxBatch, !queue.isEmpty {
                admitted.append(queue.removeFirst())
            }
            activeCount = active.count + admitted.count
            condition.unlock()

            for job in admitted {
                if job.channel.isCancelled {
                    job.channel.finish(GenerationFinish(reason: .stop))
                    continue
                }
                let cache = freeCaches.popLast() ?? model.makeCache()
                let request = job.request
                let parameters = GenerationParameters(
                    maxTokens: max(0, min(request.maxTokens, model.contextLength - request.prompt.tokenIDs.count)),
                    sampling: SamplingParameters(
                        temperature: Float(request.temperature ?? 0), topP: Float(request.topP ?? 1),
                        seed: request.seed ?? 0))
                let decoder = SequenceDecoder(
                    model: model, cache: cache, promptTokens: request.prompt.tokenIDs, parameters: parameters,
                    ignoreEndOfSequence: request.ignoreEOS, prefixCache: prefixCache, drafter: makeDrafter?(),
                    draftTokens: options.draftTokens)
                active.append(Active(job: job, decoder: decoder, tokenizer: model.tokenizer))
            }

            // One step of every sequence; prompt chunks share the iteration's prefill budget in arrival order.
            var budget = options.prefillChunk ?? .max
            var stepping: [Active] = []
            var entries: [BatchEntry] = []
            var prefillTokens = 0
            var decodeRows = 0
            for sequence in active {
                if sequence.job.channel.isCancelled {
                    sequence.decoder.cancel()
                    continue
                }
                let prefilling = sequence.decoder.state == .prefilling
                if prefilling && budget <= 0 { continue }
                guard let entry = sequence.decoder.nextStep(prefillBudget: budget) else { continue }
                if prefilling {
                    budget -= entry.tokens.count
                    prefillTokens += entry.tokens.count
                } else {
                    decodeRows += 1
                }
                stepping.append(sequence)
                entries.append(entry)
            }
            if !entries.isEmpty {
                let logits = model.forward(batch: entries, buffers: buffers)
                var speculation = SpeculationStatistics()
                for (sequence, row) in zip(stepping, logits) {
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

            var still: [Active] = []
            for sequence in active {
                guard case .finished(let reason) = sequence.decoder.state else {
                    still.append(sequence)
                    continue
                }
                finish(sequence, reason: reason)
                freeCaches.append(sequence.decoder.cache)
            }
            active = still
            condition.lock()
            activeCount = active.count
            condition.unlock()
        }
    }

    private func emit(_ tokens: [Int32], for sequence: Active) {
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

    private func finish(_ sequence: Active, reason: FinishReason) {
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
        sequence.job.channel.finish(
            GenerationFinish(reason: reason == .length ? .length : .stop, usageDetails: details))
    }
}

/// What the scheduler did, for `/metrics`.
struct SchedulerStatistics: Sendable {
    var maxBatch = 1
    var iterations: UInt64 = 0
    /// Sequences stepped, summed over iterations (÷ iterations = mean batch occupancy).
    var sequenceSteps: UInt64 = 0
    var lastBatchSize = 0
    var prefillTokens: UInt64 = 0
    var decodeSteps: UInt64 = 0
    var speculation = SpeculationStatistics()
    var prefixCache: PrefixCache.Statistics?
    var batchSizes = PrometheusHistogram(
        name: "llmperf_batch_size", help: "Sequences run together per forward pass (batch occupancy).",
        bounds: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64])

    mutating func iteration(
        sequences: Int, decodeRows: Int, prefillTokens: Int, speculation: SpeculationStatistics
    ) {
        iterations += 1
        sequenceSteps += UInt64(sequences)
        lastBatchSize = sequences
        self.prefillTokens += UInt64(prefillTokens)
        decodeSteps += UInt64(decodeRows)
        self.speculation += speculation
        batchSizes.observe(Double(sequences))
    }

    func render(into out: inout String, speculative: Bool) {
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("llmperf_batch_max_size", "gauge", "Most sequences decoded together (--max-batch).", "\(maxBatch)")
        metric(
            "llmperf_batch_occupancy", "gauge", "Sequences in the latest forward pass.", "\(lastBatchSize)")
        metric("llmperf_forward_passes_total", "counter", "Forward passes (scheduler iterations).", "\(iterations)")
        metric(
            "llmperf_batch_sequence_steps_total", "counter",
            "Sequences stepped, summed over forward passes (divide by passes for the mean occupancy).",
            "\(sequenceSteps)")
        batchSizes.render(into: &out)
        metric(
            "llmperf_prefill_tokens_total", "counter",
            "Prompt tokens run through the model (not from the prefix cache).",
            "\(prefillTokens)")
        metric(
            "llmperf_decode_steps_total", "counter", "Decode steps (one per sequence per forward pass).",
            "\(decodeSteps)")
        if let p = prefixCache {
            metric(
                "llmperf_prefix_cache_lookups_total", "counter", "Prompts looked up in the prefix cache.",
                "\(p.lookups)")
            metric(
                "llmperf_prefix_cache_hits_total", "counter", "Lookups that reused at least one cached block.",
                "\(p.hits)")
            metric(
                "llmperf_prefix_cache_cached_tokens_total", "counter",
                "Prompt tokens whose keys and values came from the cache.", "\(p.restoredTokens)")
            metric("llmperf_prefix_cache_blocks", "gauge", "Blocks held.", "\(p.blocks)")
            metric("llmperf_prefix_cache_bytes", "gauge", "Bytes held.", "\(p.bytes)")
            metric(
                "llmperf_prefix_cache_budget_bytes", "gauge", "Memory budget (--prefix-cache-mb).", "\(p.budgetBytes)")
            metric(
                "llmperf_prefix_cache_evictions_total", "counter", "Blocks evicted to stay in budget.", "\(p.evictions)"
            )
        }
        if speculative {
            metric(
                "llmperf_speculative_drafted_tokens_total", "counter", "Tokens proposed by the drafter.",
                "\(speculation.drafted)")
            metric(
                "llmperf_speculative_accepted_tokens_total", "counter", "Drafted tokens the model accepted.",
                "\(speculation.accepted)")
        }
    }
}
