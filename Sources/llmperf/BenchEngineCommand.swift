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
            it. Use a release build. With --device vulkan the forward passes run on a Vulkan device, \
            and the device's time per decode token and its share of the step are reported too. \
            --batch-sizes 8,32,64 also decodes B sequences together for each size (once each) and \
            reports their decode tokens/s.
            """)

    @Option(help: "'default' or the path of a GGUF file.") var model: String = "default"
    @Option(help: "Compute threads.") var threads: Int = 2
    @Option(help: "Weight format, converted at load.") var weights: WeightFormat = .native
    @Option(name: .customLong("prompt-tokens")) var promptTokens: Int = 128
    @Option(name: .customLong("decode-tokens")) var decodeTokens: Int = 128
    @Option var repetitions: Int = 5
    @Flag(help: "Print the results as JSON.") var json = false
    @Flag(
        help: ArgumentHelp(
            "Time each engine operation (on a Vulkan device: each kernel) of one more decode pass and print where "
                + "a step's time goes."))
    var profile = false
    @Option(help: ComputeDevice.help("Where the forward passes run")) var device: ComputeDevice = .cpu
    @Option(
        name: .customLong("batch-sizes"),
        help: ArgumentHelp(
            "Also decode B sequences together (the same prompt, a KV cache each) for each size, e.g. 8,32,64.",
            valueName: "sizes"))
    var batchSizesText: String?

    /// `--batch-sizes`, parsed (empty when not given).
    var batchSizes: [Int] {
        get throws {
            guard let batchSizesText else { return [] }
            let parts = batchSizesText.split(separator: ",", omittingEmptySubsequences: false)
            let sizes = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ (1...256).contains($0) }) else {
                throw ValidationError(
                    "--batch-sizes: expected comma-separated sizes 1…256 such as 8,32,64, got '\(batchSizesText)'")
            }
            return sizes
        }
    }

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
        guard promptTokens > 0, decodeTokens > 0, repetitions > 0 else {
            throw ValidationError("--prompt-tokens, --decode-tokens and --repetitions must be > 0")
        }
        _ = try batchSizes
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
                repetitions: repetitions, weights: weights, profile: profile, device: device,
                batchSizes: try batchSizes)
        } catch {
            throw CLIError.failure("bench-engine: \(error)")
        }
        print(json ? try r.json() : r.text)
    }
}
