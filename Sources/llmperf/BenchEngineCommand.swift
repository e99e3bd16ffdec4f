import ArgumentParser
import Foundation
import InferenceEngine
import LLMPerfRunner
import LLMTokenizer

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
    @Flag(help: "Time each engine operation of one more decode pass and print where a step's time goes.")
    var profile = false

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
                repetitions: repetitions, weights: weights, profile: profile)
        } catch {
            throw CLIError.failure("bench-engine: \(error)")
        }
        print(json ? try r.json() : r.text)
    }
}
