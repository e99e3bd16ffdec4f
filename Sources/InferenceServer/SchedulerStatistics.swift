import InferenceEngine

/// What the scheduler did, for `/metrics`.
struct SchedulerStatistics: Sendable {
    var maxBatch = 1
    var iterations: UInt64 = 0
    /// Sequences stepped, summed over iterations (÷ iterations = mean batch occupancy).
    var sequenceSteps: UInt64 = 0
    var lastBatchSize = 0
    var prefillTokens: UInt64 = 0
    var decodeSteps: UInt64 = 0
    /// Forward passes that failed on the engine's device (their requests were answered 500).
    var failedPasses: UInt64 = 0
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
        metric(
            "llmperf_forward_pass_failures_total", "counter",
            "Forward passes that failed on the engine's device; their requests were answered with an error.",
            "\(failedPasses)")
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
