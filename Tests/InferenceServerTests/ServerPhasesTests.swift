import Foundation
import InferenceServer
import InferenceTestSupport
import Testing

/// The server's own account of each request (`RequestTimeline`, `ServerPhases`): the phases a final
/// event's `timings` and a `Server-Timing` header carry, checked against the server's trace file (an
/// independent record of the same request's arrival and last write) and against each other.
@Suite("Server phases")
struct ServerPhasesTests {
    /// One request's `timings`, in milliseconds.
    struct Timings {
        var preprocess, queue, prefill, decode, postprocess, total: Double

        init(_ object: [String: Any]) throws {
            func ms(_ key: String) throws -> Double {
                guard let value = (object[key] as? NSNumber)?.doubleValue else {
                    throw TestFailure("timings has no number '\(key)': \(object)")
                }
                return value
            }
            preprocess = try ms("preprocess_ms")
            queue = try ms("queue_ms")
            prefill = try ms("prompt_ms")
            decode = try ms("predicted_ms")
            postprocess = try ms("postprocess_ms")
            total = try ms("total_ms")
        }

        var sum: Double { preprocess + queue + prefill + decode + postprocess }
    }

    /// `request_id → (arrival, last write)` in ms on the server's clock, from its trace file.
    static func traceSpans(_ path: String) throws -> [String: (arrival: Double, done: Double)] {
        var spans: [String: (arrival: Double, done: Double)] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 4, let nanos = Double(fields[2]) else { continue }
            let ms = nanos / 1e6
            switch fields[3] {
            case "arrival": spans[fields[0], default: (ms, ms)].arrival = ms
            case "done": spans[fields[0], default: (ms, ms)].done = ms
            default: continue
            }
        }
        return spans
    }

    /// On the transformer engine, one request at a time (no batching) and six requests sent together: for
    /// every request the phases add up to the server's end-to-end, which the trace file's arrival and last
    /// write confirm within 1 ms; and the queue is where the waiting went — each request's prefill and
    /// decode lie outside every other's, and one handed over while another ran waited until that one ended.
    @Test func phasesAddUpAndTheQueueHoldsTheWaitOnTheTransformerEngine() async throws {
        let model = try TinyModelFactory.path(type: .q8_0)
        let directory = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: model)
            try? FileManager.default.removeItem(at: directory)
        }
        let tracePath = directory.appendingPathComponent("trace.tsv").path
        let configuration = ServerConfiguration(
            port: 0,
            engine: .custom {
                try TransformerServingEngine(
                    path: model, servedName: "tiny",
                    options: TransformerServingOptions(threads: 1, contextLength: 64, continuousBatching: false))
            }, tracePath: tracePath)
        var timings: [String: Timings] = [:]
        try await withServer(configuration) { server in
            #expect(try await TransformerServingTests.waitUntilHealthy(server.port) == 200)
            let port = server.port
            try await withThrowingTaskGroup(of: (String, Timings?).self) { group in
                for i in 0..<6 {
                    group.addTask {
                        let id = "phases-\(i)"
                        let response = try await TestHTTPClient.post(
                            port: port, path: "/v1/chat/completions",
                            json: TransformerServingTests.body("request \(i)", maxTokens: 8, stream: true),
                            headers: ["x-request-id": id])
                        let payloads = try response.events.dropLast().map(eventJSON)
                        return (id, try payloads.compactMap { $0["timings"] as? [String: Any] }.last.map(Timings.init))
                    }
                }
                for try await (id, parsed) in group {
                    timings[id] = try #require(parsed, "\(id) has no timings in its stream")
                }
            }
        }
        let spans = try Self.traceSpans(tracePath)
        #expect(timings.count == 6)
        for (id, t) in timings {
            // Rounded to microseconds each: the sum is the total within their rounding.
            #expect(abs(t.sum - t.total) < 0.01, "\(id): phases sum to \(t.sum) ms, total \(t.total) ms")
            let span = try #require(spans[id], "\(id) is not in the trace")
            let traced = span.done - span.arrival
            // The last write follows the final event's rendering (where the total ends) by one write.
            #expect(traced >= t.total - 0.01 && traced - t.total < 1, "\(id): traced \(traced) ms, total \(t.total)")
        }
        // Absolute spans on the trace's clock: submitted, admitted, last token.
        struct Span {
            var submitted, admitted, last: Double
        }
        var running: [(id: String, span: Span)] = []
        for (id, t) in timings {
            let arrival = try #require(spans[id]).arrival
            let submitted = arrival + t.preprocess
            let admitted = submitted + t.queue
            running.append((id, Span(submitted: submitted, admitted: admitted, last: admitted + t.prefill + t.decode)))
        }
        let tolerance = 0.01
        for a in running {
            for b in running where a.id != b.id {
                // One at a time: b's run does not start inside a's.
                #expect(
                    !(b.span.admitted > a.span.admitted + tolerance && b.span.admitted < a.span.last - tolerance),
                    "\(b.id) was admitted at \(b.span.admitted) while \(a.id) ran \(a.span.admitted)…\(a.span.last)")
                // Handed over while a ran: b waited in the queue until a's last token.
                if b.span.submitted > a.span.admitted + tolerance && b.span.submitted < a.span.last - tolerance {
                    #expect(
                        b.span.admitted >= a.span.last - tolerance,
                        "\(b.id) came at \(b.span.submitted) while \(a.id) ran, but was admitted at \(b.span.admitted)")
                }
            }
        }
        // Six requests for one slot: some of them waited.
        #expect(timings.values.contains { $0.queue > 0.1 }, "no request queued: \(timings.values.map(\.queue))")
    }

    /// Not streamed, the phases come in a `Server-Timing` header; `/metrics` gains a histogram per phase
    /// whose counts are the requests generated; the synthetic engine's TTFT lands in the prefill.
    @Test func serverTimingHeaderAndPhaseHistograms() async throws {
        try await withServer(syntheticConfiguration(ttftMs: 40, itlMs: 0, tokens: 4)) { server in
            let plain = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: chatBody(maxTokens: 4))
            #expect(plain.status == 200)
            let header = try #require(plain.headers["server-timing"], "\(plain.headers)")
            var phases: [String: Double] = [:]
            for metric in header.split(separator: ",") {
                let parts = metric.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                #expect(parts.count == 2 && parts[1].hasPrefix("dur="), "\(header)")
                phases[parts[0]] = Double(parts[1].dropFirst(4))
            }
            #expect(Set(phases.keys) == ["preprocess", "queue", "prefill", "decode", "postprocess", "total"])
            let prefill = try #require(phases["prefill"])
            #expect(prefill >= 40 - (phases["preprocess"] ?? 0) - 0.01, "\(header)")
            let sum = ["preprocess", "queue", "prefill", "decode", "postprocess"].compactMap { phases[$0] }.reduce(0, +)
            #expect(abs(sum - (phases["total"] ?? -1)) < 0.01, "\(header)")

            let streamed = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: chatBody(maxTokens: 4, stream: true))
            let finish = try streamed.events.dropLast().map(eventJSON).first {
                (($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) != nil
            }
            let timings = try #require(finish?["timings"] as? [String: Any], "\(streamed.text)")
            #expect(timings["predicted_n"] as? Int == 4)

            // Anthropic's Messages API, not streamed, says the same in the header.
            let messages = try await TestHTTPClient.post(
                port: server.port, path: "/v1/messages",
                json: "{\"model\":\"synthetic\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
            )
            #expect(messages.status == 200, "\(messages.text)")
            #expect(messages.headers["server-timing"]?.contains("prefill;dur=") == true, "\(messages.headers)")

            let metrics = try await TestHTTPClient.send(port: server.port, path: "/metrics")
            for phase in ["preprocess", "queue", "prefill", "decode", "postprocess"] {
                #expect(
                    ServingOptimizationsTests.metricValue(metrics.text, "llmperf_request_\(phase)_seconds_count") == 3,
                    "\(phase): \(metrics.text)")
            }
        }
    }
}
