import Foundation
import InferenceServer
import Testing

/// A clock the test moves by hand.
private final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var nanos: UInt64 = 1_000

    func now() -> UInt64 { lock.withLock { nanos } }
    func advance(_ by: Duration) {
        let (seconds, attoseconds) = by.components
        lock.withLock { nanos += UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000) }
    }
}

private func generationRequest(
    _ prompt: String = "hello", maxTokens: Int = 4, maxTokensRequested: Bool = true, temperature: Double? = 0,
    seed: UInt64? = nil
) -> GenerationRequest {
    GenerationRequest(
        requestID: "r", prompt: PreparedPrompt(text: prompt, tokenIDs: [7, 8], tokenCount: 2), maxTokens: maxTokens,
        maxTokensRequested: maxTokensRequested, temperature: temperature, topP: nil, seed: seed, arrivalNanos: 0)
}

private func key(_ prompt: String, seed: UInt64? = nil) -> ResponseCache.Key {
    ResponseCache.Key(modelName: "m", request: generationRequest(prompt, seed: seed))
}

private func generation(_ texts: [String], reason: GenerationFinish.Reason = .length) -> ResponseCache.Generation {
    ResponseCache.Generation(pieces: texts.map { GeneratedPiece(text: $0) }, finish: GenerationFinish(reason: reason))
}

@Suite("Response cache LRU")
struct ResponseCacheLRUTests {
    @Test func missThenHit() {
        let cache = ResponseCache(configuration: .init(maxEntries: 4, maxBytes: 1 << 20, ttl: nil))
        #expect(cache.lookup(key("a")) == nil)
        #expect(cache.store(generation(["x", " y"]), for: key("a")))
        #expect(cache.lookup(key("a")) == generation(["x", " y"]))
        #expect(cache.lookup(key("a", seed: 1)) == nil)
        #expect(cache.lookup(key("b")) == nil)
        let statistics = cache.statistics
        #expect(statistics.hits == 1)
        #expect(statistics.misses == 3)
        #expect(statistics.stores == 1)
        #expect(statistics.entries == 1)
        #expect(statistics.bytes == key("a").byteCount + generation(["x", " y"]).byteCount)
    }

    @Test func everyGenerationFieldIsPartOfTheKey() {
        let base = generationRequest()
        var variants: [GenerationRequest] = []
        var changed = base
        changed.prompt.text = "other"
        variants.append(changed)
        changed = base
        changed.prompt.tokenIDs = [7, 9]
        variants.append(changed)
        changed = base
        changed.maxTokens = 5
        variants.append(changed)
        changed = base
        changed.maxTokensRequested = false
        variants.append(changed)
        changed = base
        changed.temperature = nil
        variants.append(changed)
        changed = base
        changed.topP = 0.5
        variants.append(changed)
        changed = base
        changed.seed = 3
        variants.append(changed)
        changed = base
        changed.ignoreEOS = true
        variants.append(changed)
        let baseKey = ResponseCache.Key(modelName: "m", request: base)
        for variant in variants {
            #expect(ResponseCache.Key(modelName: "m", request: variant) != baseKey)
        }
        #expect(ResponseCache.Key(modelName: "n", request: base) != baseKey)
        var sameOutput = base
        sameOutput.requestID = "another"
        sameOutput.arrivalNanos = 99
        #expect(ResponseCache.Key(modelName: "m", request: sameOutput) == baseKey)
    }

    @Test func entriesExpireAfterTheTTL() {
        let clock = ManualClock()
        let cache = ResponseCache(
            configuration: .init(maxEntries: 4, maxBytes: 1 << 20, ttl: .seconds(10)), nowNanos: { clock.now() })
        cache.store(generation(["a"]), for: key("a"))
        clock.advance(.seconds(5))
        cache.store(generation(["b"]), for: key("b"))
        clock.advance(.milliseconds(4_999))
        #expect(cache.lookup(key("a")) == generation(["a"]))  // a hit does not extend the TTL
        clock.advance(.milliseconds(1))
        #expect(cache.lookup(key("a")) == nil)
        var statistics = cache.statistics
        #expect(statistics.expired == 1)
        #expect(statistics.entries == 1)
        #expect(statistics.hits == 1)
        #expect(statistics.misses == 1)
        clock.advance(.seconds(5))
        statistics = cache.statistics  // reading the statistics drops expired entries
        #expect(statistics.expired == 2)
        #expect(statistics.entries == 0)
        #expect(statistics.bytes == 0)
        #expect(cache.lookup(key("b")) == nil)
    }

    @Test func storingAgainRestartsTheTTL() {
        let clock = ManualClock()
        let cache = ResponseCache(
            configuration: .init(maxEntries: 4, maxBytes: 1 << 20, ttl: .seconds(10)), nowNanos: { clock.now() })
        cache.store(generation(["a"]), for: key("a"))
        clock.advance(.seconds(8))
        cache.store(generation(["a2"]), for: key("a"))
        clock.advance(.seconds(8))
        #expect(cache.lookup(key("a")) == generation(["a2"]))
        #expect(cache.statistics.entries == 1)
        #expect(cache.statistics.stores == 2)
        #expect(cache.statistics.expired == 0)
    }

    @Test func entryBoundEvictsTheLeastRecentlyUsed() {
        let cache = ResponseCache(configuration: .init(maxEntries: 2, maxBytes: 1 << 20, ttl: nil))
        cache.store(generation(["a"]), for: key("a"))
        cache.store(generation(["b"]), for: key("b"))
        #expect(cache.lookup(key("a")) != nil)  // a is now more recent than b
        #expect(cache.keysByRecency == [key("a"), key("b")])
        cache.store(generation(["c"]), for: key("c"))
        #expect(cache.keysByRecency == [key("c"), key("a")])
        #expect(cache.lookup(key("b")) == nil)
        #expect(cache.lookup(key("a")) == generation(["a"]))
        #expect(cache.lookup(key("c")) == generation(["c"]))
        let statistics = cache.statistics
        #expect(statistics.evictions == 1)
        #expect(statistics.entries == 2)
    }

    @Test func byteBoundEvictsUntilTheNewEntryFits() {
        let entryBytes = key("a").byteCount + generation(["0123456789"]).byteCount
        let cache = ResponseCache(configuration: .init(maxEntries: 100, maxBytes: 3 * entryBytes - 1, ttl: nil))
        cache.store(generation(["0123456789"]), for: key("a"))
        cache.store(generation(["0123456789"]), for: key("b"))
        #expect(cache.statistics.bytes == 2 * entryBytes)
        cache.store(generation(["0123456789"]), for: key("c"))
        #expect(cache.keysByRecency == [key("c"), key("b")])
        #expect(cache.statistics.evictions == 1)
        #expect(cache.statistics.bytes == 2 * entryBytes)
        // An entry twice as large needs both others gone.
        let large = String(
            repeating: "x", count: 2 * entryBytes - key("d").byteCount - ResponseCache.pieceOverheadBytes)
        #expect(key("d").byteCount + generation([large]).byteCount == 2 * entryBytes)
        #expect(cache.store(generation([large]), for: key("d")))
        #expect(cache.keysByRecency == [key("d")])
        #expect(cache.statistics.evictions == 3)
    }

    @Test func anEntryLargerThanTheByteBoundIsNotStored() {
        let cache = ResponseCache(configuration: .init(maxEntries: 10, maxBytes: 400, ttl: nil))
        cache.store(generation(["small"]), for: key("a"))
        #expect(!cache.store(generation([String(repeating: "x", count: 400)]), for: key("b")))
        #expect(cache.keysByRecency == [key("a")])
        #expect(cache.statistics.stores == 1)
        #expect(cache.statistics.evictions == 0)
        let none = ResponseCache(configuration: .init(maxEntries: 0, maxBytes: 1 << 20, ttl: nil))
        #expect(!none.store(generation(["a"]), for: key("a")))
        #expect(none.lookup(key("a")) == nil)
    }

    @Test func slotsAreReusedAfterRemoval() {
        let cache = ResponseCache(configuration: .init(maxEntries: 3, maxBytes: 1 << 20, ttl: nil))
        for round in 0..<50 {
            cache.store(generation(["\(round)"]), for: key("k\(round)"))
            if round >= 1 { #expect(cache.lookup(key("k\(round - 1)")) == generation(["\(round - 1)"])) }
        }
        #expect(cache.keysByRecency == [key("k48"), key("k49"), key("k47")])
        #expect(cache.statistics.entries == 3)
        #expect(cache.statistics.evictions == 47)
    }
}

/// Yields `pieces` in two batches (the second with the finish), counting calls; fails on call `failOnCall`.
private final class CountingEngine: ServingEngine, @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    let pieces: [GeneratedPiece]
    let failOnCall: Int?

    init(
        pieces: [GeneratedPiece] = [GeneratedPiece(text: "one"), GeneratedPiece(text: " two", tokenCount: 2)],
        failOnCall: Int? = nil
    ) {
        self.pieces = pieces
        self.failOnCall = failOnCall
    }

    struct Broken: Error {}

    var modelName: String { "counting" }
    var contextLength: Int { 100 }
    var generateCalls: Int { lock.withLock { calls } }
    var metricsText: String { "# HELP counting_total Calls.\n# TYPE counting_total counter\ncounting_total 1\n" }

    func prepare(_ input: PromptInput) throws -> PreparedPrompt { PreparedPrompt(text: "p", tokenCount: 1) }

    func generate(_ request: GenerationRequest) -> GenerationStream {
        let call = lock.withLock {
            calls += 1
            return calls
        }
        let fails = call == failOnCall
        let pieces = pieces
        let half = pieces.count / 2
        return GenerationStream(
            responseHeaders: [(name: "x-engine", value: "counting")],
            makeNext: {
                var step = 0
                return {
                    step += 1
                    switch step {
                    case 1: return GenerationBatch(pieces: Array(pieces[..<half]))
                    case 2:
                        if fails { throw Broken() }
                        return GenerationBatch(
                            pieces: Array(pieces[half...]),
                            finish: GenerationFinish(
                                reason: .length, usageDetails: UsageDetails(cachedPromptTokens: 1, extra: ["k": 2])))
                    default: return nil
                    }
                }
            })
    }
}

private struct Drained {
    var pieces: [GeneratedPiece] = []
    var finish: GenerationFinish?
    var batches = 0
}

private func drain(_ stream: GenerationStream) async throws -> Drained {
    var out = Drained()
    for try await batch in stream {
        out.batches += 1
        out.pieces += batch.pieces
        if let finish = batch.finish {
            out.finish = finish
            break
        }
    }
    return out
}

private func cacheHeader(_ stream: GenerationStream) -> String? {
    stream.responseHeaders.first { $0.name == "x-cache" }?.value
}

@Suite("Response caching engine")
struct ResponseCachingEngineTests {
    @Test func aHitReplaysTheStoredGenerationWithoutTheWrappedEngine() async throws {
        let inner = CountingEngine()
        let engine = ResponseCachingEngine(wrapping: inner, defaultTemperatureIsGreedy: true)
        let miss = engine.generate(generationRequest())
        #expect(cacheHeader(miss) == "miss")
        #expect(miss.responseHeaders.first?.name == "x-engine")  // the wrapped engine's headers stay
        let first = try await drain(miss)
        #expect(first.batches == 2)
        let hit = engine.generate(generationRequest())
        #expect(cacheHeader(hit) == "hit")
        let second = try await drain(hit)
        #expect(second.batches == 1)
        #expect(second.pieces == inner.pieces)
        #expect(second.finish == first.finish)
        #expect(second.finish?.usageDetails == UsageDetails(cachedPromptTokens: 1, extra: ["k": 2]))
        #expect(inner.generateCalls == 1)
        // No temperature: the wrapped engine's default (greedy here) counts.
        #expect(cacheHeader(engine.generate(generationRequest(temperature: nil))) == "miss")
    }

    @Test func sampledRequestsBypassUnlessSeeded() async throws {
        let inner = CountingEngine()
        let engine = ResponseCachingEngine(wrapping: inner, defaultTemperatureIsGreedy: false)
        for _ in 0..<2 {
            let stream = engine.generate(generationRequest(temperature: 0.8))
            #expect(cacheHeader(stream) == "bypass")
            _ = try await drain(stream)
        }
        let defaultSampled = engine.generate(generationRequest(temperature: nil))
        #expect(cacheHeader(defaultSampled) == "bypass")
        _ = try await drain(defaultSampled)
        #expect(engine.bypassCount == 3)
        #expect(engine.cache.statistics.stores == 0)
        #expect(engine.cache.statistics.misses == 0)
        let seeded = engine.generate(generationRequest(temperature: 0.8, seed: 5))
        #expect(cacheHeader(seeded) == "miss")
        _ = try await drain(seeded)
        #expect(cacheHeader(engine.generate(generationRequest(temperature: 0.8, seed: 5))) == "hit")
        #expect(cacheHeader(engine.generate(generationRequest(temperature: 0.8, seed: 6))) == "miss")
        #expect(inner.generateCalls == 5)
    }

    @Test func nothingIsStoredWhenTheConsumerCancelsOrTheEngineFails() async throws {
        let inner = CountingEngine(failOnCall: 2)
        let engine = ResponseCachingEngine(wrapping: inner, defaultTemperatureIsGreedy: true)
        let cancelled = engine.generate(generationRequest())
        var iterator = cancelled.makeAsyncIterator()
        #expect(try await iterator.next()?.pieces == [GeneratedPiece(text: "one")])
        cancelled.cancel()
        _ = try await iterator.next()  // even if the engine still hands over its finish
        #expect(engine.cache.statistics.stores == 0)

        let failing = engine.generate(generationRequest())
        #expect(cacheHeader(failing) == "miss")
        await #expect(throws: CountingEngine.Broken.self) { _ = try await drain(failing) }
        #expect(engine.cache.statistics.stores == 0)

        let complete = engine.generate(generationRequest())
        #expect(cacheHeader(complete) == "miss")
        _ = try await drain(complete)
        #expect(engine.cache.statistics.stores == 1)
        #expect(cacheHeader(engine.generate(generationRequest())) == "hit")
        #expect(inner.generateCalls == 3)
    }

    @Test func aGenerationTooLargeForTheCacheIsNotStored() async throws {
        let inner = CountingEngine(pieces: [GeneratedPiece(text: String(repeating: "x", count: 300)), .init(text: "y")])
        let engine = ResponseCachingEngine(
            wrapping: inner, configuration: .init(maxEntries: 10, maxBytes: 400, ttl: nil),
            defaultTemperatureIsGreedy: true)
        for _ in 0..<2 {
            let stream = engine.generate(generationRequest())
            #expect(cacheHeader(stream) == "miss")
            #expect(try await drain(stream).pieces == inner.pieces)
        }
        #expect(engine.cache.statistics.stores == 0)
    }

    @Test func metricsTextListsTheCountersThenTheWrappedEngines() async throws {
        let engine = ResponseCachingEngine(wrapping: CountingEngine(), defaultTemperatureIsGreedy: true)
        _ = try await drain(engine.generate(generationRequest()))
        _ = try await drain(engine.generate(generationRequest()))
        _ = try await drain(engine.generate(generationRequest(temperature: 1)))
        let text = engine.metricsText
        let metrics = try PrometheusSamples(text)
        #expect(metrics.value("llmperf_response_cache_hits_total") == 1)
        #expect(metrics.value("llmperf_response_cache_misses_total") == 1)
        #expect(metrics.value("llmperf_response_cache_bypass_total") == 1)
        #expect(metrics.value("llmperf_response_cache_stores_total") == 1)
        #expect(metrics.value("llmperf_response_cache_evictions_total") == 0)
        #expect(metrics.value("llmperf_response_cache_expired_total") == 0)
        #expect(metrics.value("llmperf_response_cache_entries") == 1)
        #expect(metrics.value("llmperf_response_cache_bytes") == Double(engine.cache.statistics.bytes))
        #expect(metrics.types["llmperf_response_cache_entries"] == "gauge")
        #expect(metrics.types["llmperf_response_cache_hits_total"] == "counter")
        #expect(text.hasSuffix("counting_total 1\n"))
    }
}

@Suite("Response cache over HTTP")
struct ResponseCacheHTTPTests {
    private static func withCachingServer(
        _ configuration: ResponseCache.Configuration = .init(), _ body: (RunningServer) async throws -> Void
    ) async throws {
        let server = ServerConfiguration(
            port: 0,
            engine: .custom {
                ResponseCachingEngine(
                    wrapping: SyntheticEngine(configuration: .init(defaultTokens: 16)), configuration: configuration,
                    defaultTemperatureIsGreedy: true)
            })
        try await withServer(server) { server in
            var ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            for _ in 0..<100 where ready.status != 200 {
                try await Task.sleep(for: .milliseconds(10))
                ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            }
            try #require(ready.status == 200)
            try await body(server)
        }
    }

    private static func chat(_ server: RunningServer, _ extra: String, stream: Bool = false) async throws -> (
        cache: String?, text: String, finish: String?
    ) {
        let response = try await TestHTTPClient.post(
            port: server.port, path: "/v1/chat/completions",
            json: chatBody("Tell me", maxTokens: 5, stream: stream, extra: extra))
        try #require(response.status == 200)
        if !stream {
            let choice = try #require((try response.json()["choices"] as? [[String: Any]])?.first)
            return (
                response.headers["x-cache"], try #require((choice["message"] as? [String: Any])?["content"] as? String),
                choice["finish_reason"] as? String
            )
        }
        var text = ""
        var finish: String?
        for event in response.events where event != "[DONE]" {
            let choice = try #require((try eventJSON(event)["choices"] as? [[String: Any]])?.first)
            text += (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
            finish = choice["finish_reason"] as? String ?? finish
        }
        return (response.headers["x-cache"], text, finish)
    }

    /// The streamed `/v1/completions` text.
    private static func completionText(_ response: TestHTTPClient.Result) throws -> String {
        var text = ""
        for event in response.events where event != "[DONE]" {
            text += (try eventJSON(event)["choices"] as? [[String: Any]])?.first?["text"] as? String ?? ""
        }
        return text
    }

    @Test func aRepeatedGreedyRequestIsAHit() async throws {
        try await Self.withCachingServer { server in
            let first = try await Self.chat(server, #","temperature":0"#)
            #expect(first.cache == "miss")
            #expect(first.text == "lorem ipsum dolor sit amet")
            #expect(first.finish == "length")
            let second = try await Self.chat(server, #","temperature":0"#)
            #expect(second.cache == "hit")
            #expect(second.text == first.text)
            #expect(second.finish == "length")
            let streamed = try await Self.chat(server, #","temperature":0"#, stream: true)
            #expect(streamed.cache == "hit")
            #expect(streamed.text == first.text)
            #expect(streamed.finish == "length")
            // Without a temperature the synthetic engine's default (greedy) applies: cached too.
            #expect(try await Self.chat(server, "").cache == "miss")
            #expect(try await Self.chat(server, "").cache == "hit")
        }
    }

    @Test func sampledRequestsAreCachedOnlyWithASeed() async throws {
        try await Self.withCachingServer { server in
            for _ in 0..<3 {
                let sampled = try await Self.chat(server, #","temperature":0.8"#)
                #expect(sampled.cache == "bypass")
                #expect(sampled.text == "lorem ipsum dolor sit amet")
            }
            let seeded = try await Self.chat(server, #","temperature":0.8,"seed":2"#)
            #expect(seeded.cache == "miss")
            #expect(seeded.text == "dolor sit amet consectetur adipiscing")
            let again = try await Self.chat(server, #","temperature":0.8,"seed":2"#, stream: true)
            #expect(again.cache == "hit")
            #expect(again.text == seeded.text)
            #expect(try await Self.chat(server, #","temperature":0.8,"seed":3"#).cache == "miss")
        }
    }

    @Test func aGenerationCutShortByAStopSequenceIsNotStored() async throws {
        try await Self.withCachingServer { server in
            // 600 tokens come in batches of at most 256, so " dolor" matches before the finish.
            func request(_ extra: String) -> String {
                #"{"model":"synthetic","prompt":"x","max_tokens":600,"temperature":0,"stream":true"# + extra + "}"
            }
            let stopped = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions", json: request(#","stop":" dolor""#))
            #expect(stopped.headers["x-cache"] == "miss")
            #expect(try Self.completionText(stopped) == "lorem ipsum")
            #expect(stopped.events.last == "[DONE]")
            let full = try await TestHTTPClient.post(port: server.port, path: "/v1/completions", json: request(""))
            #expect(full.headers["x-cache"] == "miss")
            let fullText = try Self.completionText(full)
            #expect(fullText.split(separator: " ").count == 600)
            let replay = try await TestHTTPClient.post(port: server.port, path: "/v1/completions", json: request(""))
            #expect(replay.headers["x-cache"] == "hit")
            #expect(try Self.completionText(replay) == fullText)
            // The stop sequence applies to a cached generation as to a fresh one.
            let stoppedHit = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions", json: request(#","stop":" dolor""#))
            #expect(stoppedHit.headers["x-cache"] == "hit")
            #expect(try Self.completionText(stoppedHit) == "lorem ipsum")
        }
    }

    @Test func metricsShowTheCacheCounters() async throws {
        try await Self.withCachingServer(.init(maxEntries: 1, maxBytes: 1 << 20, ttl: nil)) { server in
            #expect(try await Self.chat(server, #","temperature":0"#).cache == "miss")
            #expect(try await Self.chat(server, #","temperature":0"#).cache == "hit")
            #expect(try await Self.chat(server, #","temperature":1"#).cache == "bypass")
            // One entry at most: storing the seeded generation evicts the greedy one, and back again.
            #expect(try await Self.chat(server, #","temperature":1,"seed":9"#).cache == "miss")
            #expect(try await Self.chat(server, #","temperature":1,"seed":9"#).cache == "hit")
            #expect(try await Self.chat(server, #","temperature":0"#).cache == "miss")
            let response = try await TestHTTPClient.send(port: server.port, path: "/metrics")
            #expect(response.status == 200)
            let metrics = try PrometheusSamples(response.text)
            #expect(metrics.value("llmperf_response_cache_hits_total") == 2)
            #expect(metrics.value("llmperf_response_cache_misses_total") == 3)
            #expect(metrics.value("llmperf_response_cache_bypass_total") == 1)
            #expect(metrics.value("llmperf_response_cache_stores_total") == 3)
            #expect(metrics.value("llmperf_response_cache_evictions_total") == 2)
            #expect(metrics.value("llmperf_response_cache_expired_total") == 0)
            #expect(metrics.value("llmperf_response_cache_entries") == 1)
            #expect((metrics.value("llmperf_response_cache_bytes") ?? 0) > 0)
            #expect(metrics.types["llmperf_response_cache_misses_total"] == "counter")
            #expect(metrics.types["llmperf_response_cache_bytes"] == "gauge")
            #expect(metrics.value(#"llmperf_requests_total{endpoint="/v1/chat/completions",status="200"}"#) == 6)
        }
    }
}
