import Benchmark
import BenchmarkSupport
import LLMPerfCore

/// `llmperf compare` on two stored runs of 100,000 requests each (64 chunks a request, the
/// candidate's TTFT 2 ms slower): every metric's percentiles, Mann-Whitney U, the bootstrap
/// intervals and the verdicts, as `RunComparison` computes them.
let benchmarks: @Sendable () -> Void = {
    Benchmark(
        "runcomparison-2x100k-traces",
        configuration: BenchmarkSupport.configuration(maxIterations: 3, maxDuration: .seconds(30))
    ) { benchmark, runs in
        do {
            let comparison = try RunComparison(runs: [
                ComparisonInput(label: "before", traces: runs.before),
                ComparisonInput(label: "after", traces: runs.after),
            ])
            precondition(comparison.comparisons.count == 1)
            blackHole(comparison)
        } catch {
            fatalError("the comparison failed: \(error)")
        }
    } setup: {
        (before: makeTraces(count: 100_000, seed: 1), after: makeTraces(count: 100_000, seed: 2, shift: 2_000_000))
    }
}
