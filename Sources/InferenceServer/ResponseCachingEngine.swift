import NIOConcurrencyHelpers

/// An exact-match response cache in front of any engine.
///
/// Only deterministic requests take part: temperature 0 (no temperature counts as the wrapped engine's
/// default, greedy when `defaultTemperatureIsGreedy`) or an explicit seed. Every response carries
/// `x-cache`:
/// - `hit`: the stored pieces are yielded at once, in one batch, with the stored finish (reason and usage
///   details); the wrapped engine is not called.
/// - `miss`: the request goes to the wrapped engine (its own response headers are kept); the pieces are
///   recorded as they pass and stored when the batch carrying the finish is handed over. Nothing is stored
///   when the consumer cancels before that (a stop sequence matched, the client went away), when the
///   engine fails, or when the stream ends without a finish. A generation that did finish is stored even
///   if the consumer then stops reading: what the engine produced is complete, and stop sequences are
///   applied by the HTTP layer to every response, cached or not.
/// - `bypass`: a sampled request without a seed; it is neither looked up nor stored.
///
/// Concurrent identical misses each generate (there is no request coalescing); the last to finish
/// replaces the others' entry.
public final class ResponseCachingEngine: ServingEngine {
    /// The response header naming the outcome.
    public static let headerName = "x-cache"

    public let wrapped: any ServingEngine
    public let cache: ResponseCache
    /// Whether the wrapped engine decodes greedily when a request sets no temperature.
    public let defaultTemperatureIsGreedy: Bool
    private let bypasses = NIOLockedValueBox<UInt64>(0)

    public init(
        wrapping engine: any ServingEngine, configuration: ResponseCache.Configuration = .init(),
        defaultTemperatureIsGreedy: Bool
    ) {
        self.wrapped = engine
        self.cache = ResponseCache(configuration: configuration)
        self.defaultTemperatureIsGreedy = defaultTemperatureIsGreedy
    }

    /// With a cache made elsewhere (e.g. with an injected clock).
    public init(wrapping engine: any ServingEngine, cache: ResponseCache, defaultTemperatureIsGreedy: Bool) {
        self.wrapped = engine
        self.cache = cache
        self.defaultTemperatureIsGreedy = defaultTemperatureIsGreedy
    }

    public var modelName: String { wrapped.modelName }
    public var contextLength: Int { wrapped.contextLength }
    public var schedulerLoad: SchedulerLoad { wrapped.schedulerLoad }
    public func shutdown() { wrapped.shutdown() }

    public func defaultMaxTokens(promptTokens: Int) -> Int { wrapped.defaultMaxTokens(promptTokens: promptTokens) }

    public func prepare(_ input: PromptInput) throws -> PreparedPrompt { try wrapped.prepare(input) }

    /// Embeddings pass straight through (they are not cached).
    public var embeddingWidth: Int { wrapped.embeddingWidth }
    public func prepareEmbedding(_ input: EmbeddingInput) throws -> PreparedPrompt {
        try wrapped.prepareEmbedding(input)
    }
    public func embed(_ request: EmbeddingRequest) async throws -> [[Float]] { try await wrapped.embed(request) }

    /// Requests bypassed (sampled, no seed) since the engine was made.
    public var bypassCount: UInt64 { bypasses.withLockedValue { $0 } }

    /// Whether `request` always yields the same output: greedy, or seeded.
    public func isDeterministic(_ request: GenerationRequest) -> Bool {
        if request.seed != nil { return true }
        guard let temperature = request.temperature else { return defaultTemperatureIsGreedy }
        return temperature == 0
    }

    public func generate(_ request: GenerationRequest) -> GenerationStream {
        guard isDeterministic(request) else {
            bypasses.withLockedValue { $0 += 1 }
            var stream = wrapped.generate(request)
            stream.responseHeaders.append((name: Self.headerName, value: "bypass"))
            return stream
        }
        let key = ResponseCache.Key(modelName: wrapped.modelName, request: request)
        if let stored = cache.lookup(key) {
            let timeline = request.timeline
            timeline?.markAdmitted()
            var hit = GenerationStream(
                responseHeaders: [(name: Self.headerName, value: "hit")],
                makeNext: {
                    var sent = false
                    return {
                        if sent { return nil }
                        sent = true
                        timeline?.markTokens()
                        return GenerationBatch(pieces: stored.pieces, finish: stored.finish)
                    }
                })
            if case .toolCall = stored.pieces.first?.kind { hit.opensWithToolCall = true }
            return hit
        }
        let inner = wrapped.generate(request)
        if inner.refusal != nil { return inner }
        let cancelled = NIOLockedValueBox(false)
        let cache = self.cache
        let byteLimit = cache.configuration.maxBytes - key.byteCount
        var miss = GenerationStream(
            responseHeaders: inner.responseHeaders + [(name: Self.headerName, value: "miss")],
            makeNext: {
                var iterator = inner.makeAsyncIterator()
                var recording = byteLimit > 0
                var pieces: [GeneratedPiece] = []
                var bytes = 0
                return {
                    guard let batch = try await iterator.next() else {
                        recording = false
                        return nil
                    }
                    if recording {
                        pieces.append(contentsOf: batch.pieces)
                        for piece in batch.pieces { bytes += ResponseCache.bytes(of: piece) }
                        if bytes > byteLimit {
                            // Too large to store: stop holding on to it.
                            recording = false
                            pieces = []
                        } else if let finish = batch.finish {
                            recording = false
                            if !cancelled.withLockedValue({ $0 }) {
                                cache.store(ResponseCache.Generation(pieces: pieces, finish: finish), for: key)
                            }
                            pieces = []
                        }
                    }
                    return batch
                }
            },
            onCancel: {
                cancelled.withLockedValue { $0 = true }
                inner.cancel()
            })
        miss.opensWithToolCall = inner.opensWithToolCall
        return miss
    }

    /// The cache's counters and size, then the wrapped engine's lines.
    public var metricsText: String {
        let statistics = cache.statistics
        let bypassed = bypassCount
        var out = ""
        func sample(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += "# HELP llmperf_response_cache_\(name) \(help)\n"
            out += "# TYPE llmperf_response_cache_\(name) \(type)\n"
            out += "llmperf_response_cache_\(name) \(value)\n"
        }
        sample("hits_total", "counter", "Requests answered from the response cache.", "\(statistics.hits)")
        sample(
            "misses_total", "counter", "Deterministic requests not found in the response cache (sent to the engine).",
            "\(statistics.misses)")
        sample(
            "bypass_total", "counter", "Sampled requests without a seed (neither looked up nor stored).",
            "\(bypassed)")
        sample("stores_total", "counter", "Completed generations stored in the response cache.", "\(statistics.stores)")
        sample(
            "evictions_total", "counter", "Response cache entries evicted to respect the entry or byte bound.",
            "\(statistics.evictions)")
        sample("expired_total", "counter", "Response cache entries dropped after their TTL.", "\(statistics.expired)")
        sample("entries", "gauge", "Entries in the response cache.", "\(statistics.entries)")
        sample("bytes", "gauge", "Estimated bytes held by the response cache.", "\(statistics.bytes)")
        out += wrapped.metricsText
        return out
    }
}
