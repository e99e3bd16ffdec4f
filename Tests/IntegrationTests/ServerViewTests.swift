import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// The server's side of the latency through the built executable: the bundled server's phases of each
/// request, stored beside the client's stamps, and its `/metrics` scraped during the run and set beside
/// what the client measured.
@Suite struct ServerViewTests {
    /// Two slots for four requests at a time (`max-running: 2`): half of them wait in the server's queue.
    static func yaml(concurrency: Int, requests: Int, metrics: String? = nil) -> String {
        """
        version: 1
        name: server-view
        target:
          backend: local
          engine: synthetic
          options: { ttft-ms: 20, itl-ms: 2, max-running: 2 }
        \(metrics.map { "  metrics: \($0)\n" } ?? "")workload:
          prompts: ["hello there", "how are you"]
          max_tokens: 16
        load: { concurrency: \(concurrency), requests: \(requests), warmup: 0 }
        """
    }

    @Test func eachRequestCarriesTheServersPhasesAndTheWireRemainderIsSmall() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("view.yml", Self.yaml(concurrency: 4, requests: 40))
        let result = try LLMPerfProcess.run(["run", path, "--quiet", "--db", ws.database], timeout: 120)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try store.resolveRun("server-view@latest")
        let traces = try store.traces(runID: run.id)
        #expect(traces.count == 40 && traces.allSatisfy { $0.outcome == .ok })
        var remainders: [Double] = []
        var queued = 0
        for trace in traces {
            let t = try #require(trace.serverTimings, "request \(trace.index) has no server timings")
            let phases = [t.preprocessNanos, t.queueNanos, t.promptNanos, t.generationNanos, t.postprocessNanos]
            let known = phases.compactMap { $0 }
            #expect(known.count == 5, "request \(trace.index): \(t)")
            let total = try #require(t.totalNanos)
            // Each phase is rounded to a microsecond in `timings`.
            #expect(abs(Double(known.reduce(0, +)) - Double(total)) <= 5_000, "request \(trace.index): \(t)")
            // The synthetic engine's first token comes 20 ms after the request's arrival (or its admission,
            // when it waited): the phases up to the first token hold at least that.
            let toFirstToken = (t.preprocessNanos ?? 0) + (t.queueNanos ?? 0) + (t.promptNanos ?? 0)
            #expect(toFirstToken >= 20_000_000, "request \(trace.index): \(t)")
            if (t.queueNanos ?? 0) > 5_000_000 { queued += 1 }
            let remainder = try #require(Metric.networkClient.value(of: trace))
            remainders.append(remainder)
            // The client's span from the request's write to its last byte contains the server's whole span.
            #expect(
                remainder >= -0.005,
                """
                request \(trace.index): the server's \(total) ns exceed the client's span: \(trace.sentNanos) ns to send, \
                \(trace.endedAtNanos - trace.startedAtNanos) ns in all, reused \(trace.connection.reused); \(t)
                """)
            let breakdown = try #require(LatencyBreakdown.of(trace))
            #expect(breakdown.complete)
            #expect(abs(breakdown.totalMillis - (Metric.total.value(of: trace) ?? -1)) < 1e-6)
        }
        // Two slots, four at a time: requests wait in the queue for one.
        #expect(queued >= 10, "only \(queued) requests queued")
        // Under 2 ms on loopback, plus what the client's own probe saw of this machine's scheduling: the remainder
        // waits for the client's thread to be woken twice (the request's write, the last byte's read), and on a
        // busy 2-core machine each wake-up can be late by the probe's median lag.
        let median = Quantile.of(sorted: remainders.sorted(), 0.5)
        let lag = run.clientLoad?.lagP50Milliseconds ?? 0
        #expect(
            median < 2 + 2 * lag,
            "network and client: median \(median) ms (probe lag p50 \(lag) ms), all \(remainders.sorted())")
    }

    @Test func theServersMetricsAreScrapedDuringTheRunAndReconciled() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "scrape.yml", Self.yaml(concurrency: 1, requests: 30, metrics: "{ interval: 200ms }"))
        let result = try LLMPerfProcess.run(["run", path, "--quiet", "--db", ws.database], timeout: 120)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        #expect(result.stdout.contains("server metrics"), "\(result.stdout)")
        #expect(result.stdout.contains("none failed"), "\(result.stdout)")
        let store = try RunStore(path: ws.database)
        let run = try store.resolveRun("server-view@latest")
        let traces = try store.traces(runID: run.id)
        let scrapes = try store.scrapes(runID: run.id)
        // A baseline before the first request, one after the last, some between (30 requests of ~50 ms).
        #expect(scrapes.count >= 3, "\(scrapes.count) scrapes")
        #expect(scrapes.allSatisfy { $0.error == nil }, "\(scrapes.compactMap(\.error))")
        #expect(scrapes.map(\.sequence) == Array(0..<scrapes.count))
        let first = try #require(scrapes.first)
        let last = try #require(scrapes.last)
        #expect(first.atNanos + first.durationNanos <= traces.map(\.startedAtNanos).min() ?? 0)
        #expect(last.atNanos >= traces.map(\.endedAtNanos).max() ?? .max)
        #expect(first.samples.contains { $0.name == "llmperf_requests_running" })
        // Reconciled from what is stored: the server counted what the client saw, and its TTFT, read from
        // the histogram's sum and count, is the client's less the wire (under a millisecond on loopback).
        let ttfts = traces.compactMap { Metric.ttft.value(of: $0) }.sorted()
        let client = MetricsReconciliation.ClientSide(
            ttftMillis: .init(p50: Quantile.of(sorted: ttfts, 0.5), mean: ttfts.reduce(0, +) / Double(ttfts.count)),
            outputTokens: traces.map(\.outputTokens).reduce(0, +),
            requests: traces.count)
        let reconciliation = MetricsReconciliation.reconcile(scrapes: scrapes, client: client)
        func row(_ what: String) -> MetricsReconciliation.Row? { reconciliation.rows.first { $0.what == what } }
        #expect(row("Output tokens")?.server == Double(client.outputTokens), "\(reconciliation.rows)")
        #expect(row("Requests")?.server == 30, "\(reconciliation.rows)")
        let mean = try #require(row("TTFT mean"), "\(reconciliation.rows)")
        let difference = try #require(mean.difference)
        // Under 1 ms, plus two of the client's wake-ups as late as its own probe saw them on this machine.
        let lag = run.clientLoad?.lagP50Milliseconds ?? 0
        #expect(
            difference > -0.05 && difference < 1 + 2 * lag,
            "TTFT mean: server \(mean.server ?? -1), client \(mean.client ?? -1), probe lag p50 \(lag) ms")

        // The HTML report plots the scraped series on the run's time axis and sets the two views side by side.
        let html = try LLMPerfProcess.run(
            [
                "report", "server-view@latest", "--format", "html", "-o", ws.root.appendingPathComponent("r.html").path,
                "--db", ws.database,
            ])
        #expect(html.status == 0, "\(html.stderr)")
        let page = try String(contentsOf: ws.root.appendingPathComponent("r.html"), encoding: .utf8)
        #expect(page.contains("id=\"server-metrics\""))
        for chart in ["Requests running", "Generated tokens", "Time to first token", "Queue time"] {
            #expect(page.contains("<h3>\(chart)</h3>"), "no chart \(chart)")
        }
        #expect(page.contains("<td>TTFT mean</td>") && page.contains("<td>Requests</td><td class=\"num\">30</td>"))
    }

    @Test func aScrapeThatFailsIsRecordedAndTheRunGoesOn() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("down.yml", Self.yaml(concurrency: 2, requests: 10))
        // Nothing listens on port 9 of the loopback (discard): every scrape is refused.
        let result = try LLMPerfProcess.run(
            [
                "run", path, "--quiet", "--db", ws.database, "--scrape", "http://127.0.0.1:9/metrics",
                "--scrape-interval", "100ms",
            ], timeout: 120)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try store.resolveRun("server-view@latest")
        #expect(try store.traces(runID: run.id).filter { $0.outcome == .ok }.count == 10)
        let scrapes = try store.scrapes(runID: run.id)
        #expect(scrapes.count >= 2 && scrapes.allSatisfy { $0.error != nil && $0.samples.isEmpty })
        #expect(result.stdout.contains("\(scrapes.count) scrapes, \(scrapes.count) failed"), "\(result.stdout)")
        #expect(result.stdout.contains("last failure:"), "\(result.stdout)")

        let bad = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--scrape", "localhost:9/metrics"])
        #expect(bad.status == 64 || bad.status == 2, "exit \(bad.status)")
        #expect(bad.stderr.contains("--scrape expects an http(s) URL"), "\(bad.stderr)")
        let interval = try LLMPerfProcess.run(
            ["run", path, "--db", ws.database, "--scrape", "http://127.0.0.1:9/metrics", "--scrape-interval", "5ms"])
        #expect(interval.stderr.contains("at least 100ms"), "\(interval.stderr)")
    }
}
