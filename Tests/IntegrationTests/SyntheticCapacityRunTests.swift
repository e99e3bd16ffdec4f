import Foundation
import LLMPerfCore
import Testing

/// `--max-running` and `--itl-per-running-ms` through a scenario's `target.options`, the built executable and
/// the bundled server: the server's own trace shows at most B answers generating at once, and its token
/// intervals at itl + K·(answers generating); the client measures the queueing as TTFT. Every bound below is
/// one the server's deadlines guarantee, read from its trace.
@Suite struct SyntheticCapacityRunTests {
    @Test func aServerOfKnownCapacityQueuesBeyondItsBatchAndSlowsWithinIt() throws {
        let (runs, server) = try AnthropicRunTests.run(
            """
            version: 1
            name: capacity
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 10, itl-ms: 4, max-running: 2, itl-per-running-ms: 3 }
            workload:
              prompts: ["ping"]
              max_tokens: 5
            load: { concurrency: 2, requests: 6, warmup: 0 }
            variants:
              within: { target: { options: { trace-file: "TRACE-within" } } }
              beyond: { load: { concurrency: 4, requests: 12 }, target: { options: { trace-file: "TRACE-beyond" } } }
            """)
        for variant in ["within", "beyond"] {
            let run = try #require(runs[variant])
            let trace = try #require(server[variant])
            #expect(run.traces.count == (variant == "within" ? 6 : 12))
            #expect(run.traces.allSatisfy { $0.succeeded })
            // Each answer's span on the server, first token to last (the slot is taken ttft before the first and
            // freed as the last is handed over, so a successor's first token comes ttft after that).
            let spans = try run.traces.map { t -> (start: UInt64, end: UInt64) in
                let request = try #require(trace.requests["llmperf-\(run.id)-\(t.index)"])
                #expect(request.tokenNanos.count == 5)
                let first = try #require(request.tokenNanos.first)
                // At least this answer generating: each interval is ≥ 4 + 3 = 7 ms (4 ms without the option).
                #expect(try #require(request.tokenNanos.last) >= first + 4 * 7_000_000)
                // The client's TTFT holds the server's, queueing included.
                let arrival = try #require(request.arrivalNanos)
                #expect(try #require(Metric.ttft.value(of: t)) >= Double(first - arrival) / 1e6)
                return (first, try #require(request.tokenNanos.last))
            }
            // Never more than two at once: at each span's start, the spans under way then (itself included).
            for span in spans {
                let together = spans.filter { $0.start <= span.start && span.start < $0.end }.count
                #expect(together <= 2, "\(variant): \(together) answers generating together")
            }
        }
        // Beyond the batch the server held requests back: in the closed loop a newcomer waits behind another
        // waiting request for a whole answer (≥ 10 + 4·7 ms) before its own ttft.
        let serverTTFT = { (variant: String) throws -> Double in
            let run = try #require(runs[variant])
            let trace = try #require(server[variant])
            return try run.traces.map { t in
                let request = try #require(trace.requests["llmperf-\(run.id)-\(t.index)"])
                return Double(try #require(request.tokenNanos.first) - (try #require(request.arrivalNanos))) / 1e6
            }.max() ?? 0
        }
        #expect(try serverTTFT("beyond") >= 10 + 4 * 7, "a waiting request's TTFT on the server")
    }
}
