import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `load.replay` through the built executable against the bundled synthetic server: what the server's own
/// trace says arrived, and when, is what the trace file says; the prompt lengths (the server counts the
/// words of a completions prompt) and output lengths are the rows'; the schedule lag is reported in the
/// run's summary, in `runs show` and in its JSON.
@Suite(.serialized) struct ReplayRunTests {
    /// 50 rows at 50 requests/s on average, with uneven gaps (0 to 40 ms), lengths that vary, and shared blocks.
    static func rows() -> [(offsetMs: Int, input: Int, output: Int, ids: [Int])] {
        let gaps = [0, 35, 5, 20, 40, 10, 25, 15, 30, 20]
        var offset = 0
        return (0..<50).map { i in
            offset += i == 0 ? 0 : gaps[i % gaps.count]
            let input = 20 + (i * 37) % 700
            let blocks = (input + 511) / 512
            let ids = blocks == 1 ? [i % 3] : [i % 3, 100 + i]
            return (offset, input, 2 + i % 5, ids)
        }
    }

    @Test func theServerSeesTheTracesArrivalsAndLengths() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let rows = Self.rows()
        let trace = rows.map {
            "{\"timestamp\": \($0.offsetMs), \"input_length\": \($0.input), \"output_length\": \($0.output), "
                + "\"hash_ids\": \($0.ids)}"
        }.joined(separator: "\n")
        _ = try ws.write("trace.jsonl", trace + "\n")
        let serverTrace = ws.root.appendingPathComponent("server-trace").path
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: replay
            target:
              backend: local
              engine: synthetic
              api: openai-completions
              options: { ttft-ms: 1, itl-ms: 1, trace-file: "\(serverTrace)" }
            workload: { stream: true }
            load:
              replay: { path: trace.jsonl, format: mooncake }
            """)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"], timeout: 120)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        #expect(result.stdout.contains("schedule lag (sent − trace time) p50 "), "\(result.stdout)")

        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        #expect(run.loadDescription == "replay mooncake x1 n=50")
        let traces = try store.traces(runID: run.id).sorted { $0.index < $1.index }
        #expect(traces.count == 50)
        let server = try ServerTrace(parsing: String(contentsOfFile: serverTrace, encoding: .utf8))
        var arrivals: [UInt64] = []
        for (row, t) in zip(rows, traces) {
            #expect(t.succeeded, "request \(t.index): \(t.outcome)")
            // The prompt is the row's length (the synthetic server counts a completion prompt's words) and
            // the answer the row's output length (max_tokens with ignore_eos).
            #expect(t.usage?.promptTokens == row.input, "request \(t.index)")
            let request = try #require(server.requests["llmperf-\(run.id)-\(t.index)"])
            #expect(request.tokenNanos.count == row.output, "request \(t.index)")
            arrivals.append(try #require(request.arrivalNanos))
        }
        // The client scheduled each request at the trace's offset, to the nanosecond.
        let first = try #require(traces[0].scheduledAtNanos)
        #expect(traces.map { ($0.scheduledAtNanos ?? 0) - first } == rows.map { UInt64($0.offsetMs) * 1_000_000 })
        // Arrivals on the server keep the trace's intervals: each arrival's time after the first, less the
        // trace's offset, is the same for every request (the median of them is the first request's own
        // delay). Nine in ten within 2 ms of that median, and half within 0.5 ms. (Not every one: on a 2-core
        // machine busy with builds a waking thread may get its slice a few ms late; the client records its own
        // lateness as the schedule lag.) A pacer late by itself, by a share of each gap or growing over the run,
        // moves most arrivals and fails.
        let deviations = zip(arrivals, rows).map { arrival, row in
            (Double(arrival) - Double(arrivals[0])) / 1e6 - Double(row.offsetMs)
        }
        let median = deviations.sorted()[deviations.count / 2]
        let errors = deviations.map { abs($0 - median) }
        let lags = traces.map { Double($0.startedAtNanos - ($0.scheduledAtNanos ?? $0.startedAtNanos)) / 1e6 }
        let report = "arrival errors (ms): \(errors)\nclient lags (ms): \(lags)"
        #expect(errors.sorted()[errors.count / 2] <= 0.5, "\(report)")
        #expect(errors.filter { $0 <= 2 }.count * 10 >= errors.count * 9, "\(report)")

        let shown = try LLMPerfProcess.run(["runs", "show", run.id, "--db", ws.database])
        #expect(shown.stdout.contains("schedule lag (sent − trace time)"), "\(shown.stdout)")
        let json = try LLMPerfProcess.run(["runs", "show", run.id, "--db", ws.database, "--json"])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let lag = try #require(object["scheduleLag"] as? [String: Any], "\(json.stdout)")
        #expect(lag["requests"] as? Int == 50)
        #expect(lag["p99_ms"] is Double || lag["p99_ms"] is Int)
        #expect(lag["client_bound"] is Bool)
    }
}
