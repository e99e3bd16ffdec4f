import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// Where the time went, end to end: `llmperf run` against the bundled synthetic backend (which reports its
/// own phases in each stream's final event), then `runs show` and `compare` through the built executable.
/// Every bound is causal: the server's own numbers against its configuration and against what the client
/// saw, never a wall-clock window.
@Suite(.serialized) struct BreakdownCommandTests {
    static func scenario(name: String, options: String, concurrency: Int, requests: Int) -> String {
        """
        version: 1
        name: \(name)
        target:
          backend: local
          engine: synthetic
          options: { \(options) }
        workload:
          prompts: ["Say something.", "Say something else."]
          max_tokens: 6
        load:
          concurrency: \(concurrency)
          requests: \(requests)
          warmup: 1
        """
    }

    /// Runs a scenario and returns the run's id from its JSON summary.
    static func measure(_ ws: Workspace, _ name: String, _ yaml: String) throws -> String {
        let path = try ws.write("\(name).yml", yaml)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require((json["run"] as? [String: Any])?["id"] as? String)
    }

    @Test func runsShowSaysWhereTheTimeWentWithTheServersPrefillAtItsTTFT() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let ttft = 30.0
        let id = try Self.measure(
            ws, "phases",
            Self.scenario(name: "phases", options: "ttft-ms: 30, itl-ms: 2, tokens: 6", concurrency: 2, requests: 12))

        let show = try LLMPerfProcess.run(["runs", "show", id, "--db", ws.database])
        #expect(show.status == 0, "\(show.stderr)")
        let text = show.stdout
        #expect(text.contains("Where the time went (median per segment, 12 requests)\n"), "\(text)")
        // One line per segment, in the waterfall's order, then the sum and the remainder.
        let lines = text.components(separatedBy: "\n")
        let titles = LatencyBreakdown.Segment.allCases.map(\.title) + ["sum", "network and client"]
        let positions = try titles.map { title in
            try #require(lines.firstIndex { $0.hasPrefix(title + "  ") }, "no line for \(title)\n\(text)")
        }
        #expect(positions == positions.sorted() && Set(positions).count == titles.count, "\(positions)")
        #expect(!text.contains("only its prefill and decode"))

        // The same medians in JSON, each with its side.
        let shown = try LLMPerfProcess.run(["runs", "show", id, "--json", "--db", ws.database])
        #expect(shown.status == 0, "\(shown.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let breakdown = try #require(object["breakdown"] as? [String: Any], "\(shown.stdout)")
        #expect(breakdown["requests"] as? Int == 12 && breakdown["complete"] as? Bool == true)
        let segments = try #require(breakdown["segments"] as? [[String: Any]])
        #expect(segments.compactMap { $0["segment"] as? String } == LatencyBreakdown.Segment.allCases.map(\.rawValue))
        var median: [String: Double] = [:]
        for segment in segments {
            median[try #require(segment["segment"] as? String)] = try #require(segment["medianMs"] as? Double)
        }
        let prefill = try #require(median["prefill"])
        // The text shows the server's median prefill (to its display precision).
        let prefillLine = lines[positions[6]].split(separator: " ", omittingEmptySubsequences: true)
        #expect(abs(try #require(Double(String(prefillLine[3]))) - prefill) < 0.051, "\(prefillLine)")

        // Per request, as the server reported it: its first token was due `ttft` after the request arrived,
        // so preprocessing, queue and prefill hold at least that; and the client saw the first token after
        // the server had it, so they fit in the client's TTFT less the sending (≥ 0 on the wire).
        let store = try RunStore(path: ws.database)
        let traces = try store.traces(runID: id).filter { !$0.isWarmup }
        #expect(traces.count == 12)
        var beforePrefill: [Double] = []
        for trace in traces {
            let b = try #require(LatencyBreakdown.of(trace), "request \(trace.index) has no breakdown")
            #expect(b.complete)
            #expect(b[.preprocess] + b[.queue] + b[.prefill] >= ttft - 0.002, "\(b.millis)")
            #expect(b[.firstTokenWire] >= -0.002, "\(b.millis)")
            #expect(b.networkAndClientMillis >= -0.003, "\(b.millis)")
            #expect(abs(b.totalMillis - (Metric.total.value(of: trace) ?? -1)) < 1e-6)
            beforePrefill.append(b[.preprocess] + b[.queue])
        }
        // So the median prefill is the configured TTFT, less at most the longest wait before it, and no more
        // than the client's first-token time allows.
        #expect(prefill >= ttft - (beforePrefill.max() ?? 0) - 0.002, "prefill \(prefill)")
        let ttftP50 = try #require(RunSummary(traces: traces).metrics[.ttft]?.p50)
        #expect(prefill <= ttftP50, "prefill \(prefill), client ttft p50 \(ttftP50)")
    }

    @Test func compareNamesTheServersQueueAsWhatMovedTTFT() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        // One slot for four clients: each request waits in the server's queue for the answers ahead of it.
        let queued = try Self.measure(
            ws, "queued",
            Self.scenario(
                name: "slots", options: "ttft-ms: 10, itl-ms: 2, tokens: 6, max-running: 1", concurrency: 4,
                requests: 24))
        // Enough slots: nothing waits.
        let roomy = try Self.measure(
            ws, "roomy",
            Self.scenario(
                name: "slots", options: "ttft-ms: 10, itl-ms: 2, tokens: 6, max-running: 8", concurrency: 4,
                requests: 24))

        let compare = try LLMPerfProcess.run(["compare", queued, roomy, "--db", ws.database])
        #expect(compare.status == 0, "\(compare.stderr)")
        let text = compare.stdout
        #expect(text.contains("Where it moved: slots (\(queued)) → slots (\(roomy))"), "\(text)")
        let sentence = try #require(
            text.components(separatedBy: "\n").first { $0.hasPrefix("TTFT p50 moved ") }, "\(text)")
        #expect(sentence.hasPrefix("TTFT p50 moved −"), "\(sentence)")
        #expect(
            sentence.contains(", all in the server's queue wait (−")
                || sentence.contains(" ms of it is the server's queue wait."), "\(sentence)")

        let json = try LLMPerfProcess.run(["compare", queued, roomy, "--format", "json", "--db", ws.database])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let shift = try #require((object["breakdownShifts"] as? [[String: Any]])?.first, "\(json.stdout)")
        let ttft = try #require(shift["ttft"] as? [String: Any])
        #expect(try #require(ttft["changeMs"] as? Double) < 0)
        let drivers = try #require(ttft["drivers"] as? [[String: Any]])
        #expect(drivers.first?["segment"] as? String == "queue", "\(drivers)")
        #expect(ttft["sentence"] as? String == sentence)
        // The server's own account: with one slot a newcomer waits at least one whole answer ahead of it
        // (ttft + 5 gaps after its first token); with eight, the queue is shorter.
        let segments = try #require(shift["segments"] as? [[String: Any]])
        let queue = try #require(segments.first { $0["segment"] as? String == "queue" })
        let before = try #require(queue["baselineMs"] as? Double)
        let after = try #require(queue["candidateMs"] as? Double)
        #expect(before >= 10 + 5 * 2, "queue median with one slot \(before) ms")
        #expect(after < before)

        // Markdown says it too.
        let md = try LLMPerfProcess.run(["compare", queued, roomy, "--format", "md", "--db", ws.database])
        #expect(md.status == 0 && md.stdout.contains("## Where it moved\n") && md.stdout.contains(sentence))
    }
}
