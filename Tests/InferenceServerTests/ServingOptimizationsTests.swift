import Foundation
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import InferenceServer

/// The transformer engine's serving switches over real HTTP, each compared with the switch off: continuous
/// batching, the prefix cache and speculative decoding change when tokens come, never which tokens.
@Suite("Serving optimizations over HTTP")
struct ServingOptimizationsTests {
    static let questions = [
        "hello world", "the cat sat", "a b c d e f", "quick brown fox jumps", "once upon a time", "lorem ipsum",
    ]

    static func body(system: String? = nil, _ content: String, maxTokens: Int, stream: Bool = false) -> String {
        let systemMessage = system.map { #"{"role":"system","content":"\#($0)"},"# } ?? ""
        return """
            {"model":"tiny","messages":[\(systemMessage){"role":"user","content":"\(content)"}],\
            "max_tokens":\(maxTokens),"temperature":0,"ignore_eos":true,"stream":\(stream),\
            "stream_options":{"include_usage":true}}
            """
    }

    /// The answer text and usage of a non-streamed request.
    static func ask(_ port: Int, _ json: String) async throws -> (text: String, usage: [String: Any]) {
        let result = try await TestHTTPClient.post(port: port, path: "/v1/chat/completions", json: json)
        #expect(result.status == 200, "\(result.text)")
        let object = try result.json()
        let choices = try #require(object["choices"] as? [[String: Any]])
        let text = try #require((choices.first?["message"] as? [String: Any])?["content"] as? String)
        return (text, try #require(object["usage"] as? [String: Any]))
    }

    static func metricValue(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    func serve<T>(
        _ path: String, _ options: TransformerServingOptions,
        _ body: (TransformerServingEngine, Int) async throws -> T
    ) async throws -> T {
        let engine = try TransformerServingEngine(path: path, servedName: "tiny", options: options)
        return try await withServer(ServerConfiguration(port: 0, engine: .custom { engine })) { server in
            try await body(engine, server.port)
        }
    }

    @Test func continuousBatchingAnswersExactlyAsOneAtATimeAndFillsTheBatch() async throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sequential = try await serve(
            path, TransformerServingOptions(threads: 1, contextLength: 96, continuousBatching: false)
        ) { _, port in
            var answers: [String] = []
            for question in Self.questions {
                answers.append(try await Self.ask(port, Self.body(question, maxTokens: 10)).text)
            }
            return answers
        }
        let options = TransformerServingOptions(threads: 1, contextLength: 96, maxBatch: 4, prefillChunk: 8)
        try await serve(path, options) { engine, port in
            // Hold the loop until every request is queued, so they are admitted together (4 at once, then 2).
            engine.setSchedulingPaused(true)
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (i, question) in Self.questions.enumerated() {
                    group.addTask { (i, try await Self.ask(port, Self.body(question, maxTokens: 10)).text) }
                }
                // At most a minute: on failure, resume the loop so the requests finish and the test ends.
                let deadline = ContinuousClock.now + .seconds(60)
                while engine.schedulerLoad.waiting < Self.questions.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(
                    engine.schedulerLoad.waiting == Self.questions.count,
                    "only \(engine.schedulerLoad.waiting) of \(Self.questions.count) requests queued within 60 s")
                engine.setSchedulingPaused(false)
                var answers = Array(repeating: "", count: Self.questions.count)
                for try await (i, text) in group { answers[i] = text }
                return answers
            }
            #expect(answers == sequential)
            let metrics = try await TestHTTPClient.send(port: port, path: "/metrics").text
            #expect(Self.metricValue(metrics, "llmperf_batch_max_size") == 4)
            let passes = try #require(Self.metricValue(metrics, "llmperf_forward_passes_total"))
            let steps = try #require(Self.metricValue(metrics, "llmperf_batch_sequence_steps_total"))
            // Six answers of 10 tokens one at a time need at least 60 passes; four slots shared need far fewer.
            #expect(steps >= 60)
            #expect(passes < 35, "passes \(passes), sequence steps \(steps)")
            // Some passes ran all four slots.
            let upTo3 = try #require(Self.metricValue(metrics, "llmperf_batch_size_bucket{le=\"3.0\"}"))
            let upTo4 = try #require(Self.metricValue(metrics, "llmperf_batch_size_bucket{le=\"4.0\"}"))
            #expect(upTo4 == passes)
            #expect(upTo4 > upTo3)
            #expect(Self.metricValue(metrics, "llmperf_requests_waiting") == 0)
        }
    }

    @Test func prefixCacheReusesWholeBlocksAndAnswersTheSame() async throws {
        let path = try TinyModelFactory.path(type: .f32)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let system = String(repeating: "you are a helpful assistant and you answer briefly ", count: 3)
        let model = try TransformerModel.load(path: path, threads: 1, contextLength: 256)
        func tokens(_ question: String) -> [Int32] {
            model.tokenizer.encode(
                model.chatTemplate.render(
                    messages: [(role: "system", content: system), (role: "user", content: question)],
                    addGenerationPrompt: true), addSpecial: true)
        }
        let first = tokens(Self.questions[0])
        let second = tokens(Self.questions[1])
        var shared = 0
        while shared < min(first.count, second.count) && first[shared] == second[shared] { shared += 1 }
        #expect(shared >= 64, "the test needs a shared prefix of at least two blocks, got \(shared)")
        let expectedCached = min(shared, second.count - 1) / 32 * 32

        let off = try await serve(
            path, TransformerServingOptions(threads: 1, contextLength: 256, prefixCacheBytes: nil)
        ) { _, port in
            let a = try await Self.ask(port, Self.body(system: system, Self.questions[0], maxTokens: 6))
            let b = try await Self.ask(port, Self.body(system: system, Self.questions[1], maxTokens: 6))
            #expect(a.usage["prompt_tokens_details"] == nil)
            return [a.text, b.text]
        }
        try await serve(path, TransformerServingOptions(threads: 1, contextLength: 256, prefixCacheBytes: 8 << 20)) {
            _, port in
            let a = try await Self.ask(port, Self.body(system: system, Self.questions[0], maxTokens: 6))
            let b = try await Self.ask(port, Self.body(system: system, Self.questions[1], maxTokens: 6))
            #expect([a.text, b.text] == off)
            let cachedA = (a.usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
            let cachedB = (b.usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
            #expect(cachedA == 0)
            #expect(cachedB == expectedCached)
            let metrics = try await TestHTTPClient.send(port: port, path: "/metrics").text
            #expect(Self.metricValue(metrics, "llmperf_prefix_cache_cached_tokens_total") == Double(expectedCached))
            #expect(Self.metricValue(metrics, "llmperf_prefix_cache_hits_total") == 1)
            #expect(Self.metricValue(metrics, "llmperf_prefix_cache_budget_bytes") == Double(8 << 20))
        }
    }

    @Test(arguments: [SpeculationMode.ngram, .selfQuantized(.q8_0)])
    func speculativeDecodingAnswersExactlyAsPlainGreedyAndReportsAcceptance(mode: SpeculationMode) async throws {
        let path = try TinyModelFactory.path(type: .f32)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A prompt that repeats itself gives the n-gram drafter something to find.
        let question = "one two three one two three one two three one two"
        let plain = try await serve(path, TransformerServingOptions(threads: 1, contextLength: 128)) { _, port in
            try await Self.ask(port, Self.body(question, maxTokens: 16)).text
        }
        try await serve(
            path, TransformerServingOptions(threads: 1, contextLength: 128, speculation: mode, draftTokens: 3)
        ) { _, port in
            let answer = try await Self.ask(port, Self.body(question, maxTokens: 16))
            #expect(answer.text == plain)
            let drafted = try #require(answer.usage["speculative_drafted_tokens"] as? Int)
            let accepted = try #require(answer.usage["speculative_accepted_tokens"] as? Int)
            #expect(drafted > 0)
            #expect(accepted >= 0 && accepted <= drafted)
            if mode != .ngram {
                // The draft is the same weights at 8 bits: it agrees with the model almost always.
                #expect(accepted * 2 > drafted, "accepted \(accepted) of \(drafted)")
            }
            let metrics = try await TestHTTPClient.send(port: port, path: "/metrics").text
            #expect(Self.metricValue(metrics, "llmperf_speculative_drafted_tokens_total") == Double(drafted))
            #expect(Self.metricValue(metrics, "llmperf_speculative_accepted_tokens_total") == Double(accepted))
        }
    }
}
