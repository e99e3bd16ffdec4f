import ArgumentParser
import Foundation
import InferenceEngine
import LLMPerfRunner

struct BenchEngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Measure the bundled engine: prefill and decode tokens/s, peak RSS, memory bandwidth.",
        discussion: """
            Loads the model (converting its weights to --weights when not native), times a prefill of \
            --prompt-tokens and a greedy decode of --decode-tokens (best and median of --repetitions), \
            and measures this machine's memory bandwidth in the same run, since decode speed is bound by \
            it. Use a release build.
            """)

    @Option(help: "'default' or the path of a GGUF file.") var model: String = "default"
    @Option(help: "Compute threads.") var threads: Int = 2
    @Option(help: "Weight format, converted at load.") var weights: WeightFormat = .native
    @Option(name: .customLong("prompt-tokens")) var promptTokens: Int = 128
    @Option(name: .customLong("decode-tokens")) var decodeTokens: Int = 128
    @Option var repetitions: Int = 5
    @Flag(help: "Print the results as JSON.") var json = false

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
        guard promptTokens > 0, decodeTokens > 0, repetitions > 0 else {
            throw ValidationError("--prompt-tokens, --decode-tokens and --repetitions must be > 0")
        }
    }

    func run() async throws {
        let path: String
        do {
            path = try ModelLocator.resolve(model)
        } catch {
            throw CLIError.invalid("\(error)")
        }
        let r: EngineBenchmarkResult
        do {
            r = try EngineBenchmark.run(
                modelPath: path, threads: threads, promptTokens: promptTokens, decodeTokens: decodeTokens,
                repetitions: repetitions, weights: weights)
        } catch {
            throw CLIError.failure("bench-engine: \(error)")
        }
        if json {
            let object: [String: Any] = [
                "model": r.modelName, "weights": r.weightFormat.rawValue, "matrix_types": r.matrixTypes,
                "threads": r.threads, "prompt_tokens": r.promptTokens,
                "decode_tokens": r.decodeTokens, "load_seconds": r.loadSeconds,
                "prefill_tokens_per_s_best": r.prefillTokensPerSecond,
                "prefill_tokens_per_s_median": r.prefillTokensPerSecondMedian,
                "decode_tokens_per_s_best": r.decodeTokensPerSecond,
                "decode_tokens_per_s_median": r.decodeTokensPerSecondMedian,
                "peak_rss_bytes": r.peakResidentBytes.map { $0 as Any } ?? NSNull(),
                "memory_bandwidth_gb_per_s": r.memoryBandwidthGBps,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(
            "model \(r.modelName), weights \(r.weightFormat) (\(r.matrixTypes.joined(separator: ", "))), "
                + "\(r.threads) threads, loaded in \(String(format: "%.2f", r.loadSeconds)) s")
        print(
            String(
                format: "prefill  %4d tokens: %7.1f tokens/s best, %7.1f median", r.promptTokens,
                r.prefillTokensPerSecond, r.prefillTokensPerSecondMedian))
        print(
            String(
                format: "decode   %4d tokens: %7.1f tokens/s best, %7.1f median", r.decodeTokens,
                r.decodeTokensPerSecond, r.decodeTokensPerSecondMedian))
        print(
            "peak RSS \(r.peakResidentText); memory bandwidth " + String(format: "%.1f GB/s", r.memoryBandwidthGBps))
    }
}
