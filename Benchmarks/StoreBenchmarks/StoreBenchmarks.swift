import Benchmark
import BenchmarkSupport
import Foundation
import LLMPerfCore
import LLMPerfStore

/// The SQLite writer: 100,000 finished requests (64 chunk times each, a short output text)
/// appended to a `RequestWriter` and stored by `RunStore` in a new file, as `llmperf run`
/// stores them. Each iteration starts from an empty database in a temporary directory.
let benchmarks: @Sendable () -> Void = {
    let requestCount = 100_000

    Benchmark(
        "store-insert-100k-requests",
        configuration: BenchmarkSupport.configuration(maxIterations: 5, maxDuration: .seconds(20))
    ) { benchmark, traces in
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("llmperf-bench-\(getpid())-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let store = try RunStore(path: directory.appendingPathComponent("llmperf.sqlite").path)
            let runID = try store.newRunID()
            try store.insertRun(
                RunInfo(id: runID, name: "bench", batchID: "b1", startedAt: Date(timeIntervalSince1970: 1.7e9)))
            benchmark.startMeasurement()
            let writer = RequestWriter(store: store, runID: runID)
            for trace in traces { writer.append(trace) }
            let written = try writer.finish()
            benchmark.stopMeasurement()
            precondition(written == requestCount, "stored \(written) of \(requestCount)")
        } catch {
            fatalError("the store failed: \(error)")
        }
    } setup: {
        makeTraces(count: requestCount, seed: 7)
    }
}
