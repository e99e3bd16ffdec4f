import Foundation
import InferenceEngine

/// Results of `EngineBenchmark.run`.
public struct EngineBenchmarkResult: Sendable, Equatable {
    public var modelName: String
    /// The weight format asked for (`native` unless converted at load).
    public var weightFormat: WeightFormat
    /// The element types of the weight matrices as run (`Q4_1`, or `Q8_0` after `--weights q8_0`).
    public var matrixTypes: [String]
    public var threads: Int
    public var promptTokens: Int
    public var decodeTokens: Int
    /// Seconds to load the model (mapping, tokenizer, weight conversion and packing).
    public var loadSeconds: Double
    /// Best of the repetitions.
    public var prefillTokensPerSecond: Double
    /// Best of the repetitions.
    public var decodeTokensPerSecond: Double
    /// Median of the repetitions (other work on the machine shows up here first).
    public var prefillTokensPerSecondMedian: Double
    /// Median of the repetitions.
    public var decodeTokensPerSecondMedian: Double
    /// Peak resident memory of this process (VmHWM), in bytes; nil where it cannot be read
    /// (no `/proc`), never a made-up 0.
    public var peakResidentBytes: Int?

    /// `12.3 MB`, or `unavailable` when it could not be read.
    public var peakResidentText: String {
        guard let bytes = peakResidentBytes else { return "unavailable" }
        return String(format: "%.1f MB", Double(bytes) / 1e6)
    }
    /// Measured memory read bandwidth of this machine, in GB/s (10^9 bytes per second).
    public var memoryBandwidthGBps: Double
}

/// Measures the engine on a model: batched prefill speed, decode speed, peak memory, and the machine's memory
/// bandwidth (decode is bandwidth-bound, so this is the ceiling to compare against).
public enum EngineBenchmark {
    /// - Parameters:
    ///   - promptTokens: length of the (synthetic) prompt processed in one prefill.
    ///   - decodeTokens: tokens generated greedily afterwards (EOS is ignored).
    ///   - repetitions: the best of this many runs is reported.
    ///   - weights: the weight format to load the model in.
    public static func run(
        modelPath: String, threads: Int = 2, promptTokens: Int = 128, decodeTokens: Int = 64, repetitions: Int = 3,
        weights: WeightFormat = .native
    ) throws -> EngineBenchmarkResult {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let model = try TransformerModel.load(
            path: modelPath, threads: threads, contextLength: promptTokens + decodeTokens + 1, weights: weights)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let cache = model.makeCache()
        let buffers = ForwardBuffers(config: model.config)
        var prompt = model.tokenizer.encode(
            String(repeating: "The quick brown fox jumps over the lazy dog. ", count: promptTokens / 8 + 2),
            addSpecial: false)
        prompt = Array(prompt.prefix(promptTokens))
        var prefillRates: [Double] = []
        var decodeRates: [Double] = []
        for _ in 0..<max(1, repetitions) {
            // The prompt in one pass, which picks the first token; then `decodeTokens` greedy decode passes.
            let decoder = SequenceDecoder(
                model: model, cache: cache, promptTokens: prompt,
                parameters: GenerationParameters(maxTokens: decodeTokens + 1), ignoreEndOfSequence: true)
            let t0 = DispatchTime.now().uptimeNanoseconds
            var t1: UInt64?
            decoder.run(buffers: buffers) { _ in
                if t1 == nil { t1 = DispatchTime.now().uptimeNanoseconds }
                return true
            }
            let t2 = DispatchTime.now().uptimeNanoseconds
            guard let t1 else { preconditionFailure("the prompt produced no token") }
            prefillRates.append(Double(prompt.count) / (Double(t1 - t0) / 1e9))
            decodeRates.append(Double(decodeTokens) / (Double(t2 - t1) / 1e9))
        }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        return EngineBenchmarkResult(
            modelName: model.name, weightFormat: weights, matrixTypes: model.matrixTypes.map(\.name).sorted(),
            threads: threads, promptTokens: prompt.count, decodeTokens: decodeTokens,
            loadSeconds: loadSeconds, prefillTokensPerSecond: prefillRates.max()!,
            decodeTokensPerSecond: decodeRates.max()!, prefillTokensPerSecondMedian: median(prefillRates),
            decodeTokensPerSecondMedian: median(decodeRates),
            peakResidentBytes: peakResidentBytes(), memoryBandwidthGBps: measureMemoryBandwidth(threads: threads))
    }

    /// VmHWM from /proc/self/status, in bytes; nil when it cannot be read.
    public static func peakResidentBytes() -> Int? {
        peakResidentBytes(procStatus: try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))
    }

    /// VmHWM from the text of a `/proc/PID/status` file (`VmHWM:   12345 kB`), in bytes; nil
    /// when there is no text or no readable VmHWM line.
    public static func peakResidentBytes(procStatus: String?) -> Int? {
        guard let procStatus else { return nil }
        for line in procStatus.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.dropFirst("VmHWM:".count).split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, fields[1] == "kB", let kilobytes = Int(fields[0]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// Streams a 256 MiB buffer (larger than any cache) with `threads` threads and returns the best read rate, GB/s.
    public static func measureMemoryBandwidth(threads: Int = 2, bytes: Int = 256 << 20) -> Double {
        let count = bytes / MemoryLayout<SIMD16<Float>>.size
        let buffer = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: SIMD16<Float>(repeating: 1), count: count)
        let pool = ThreadPool(threads: threads)
        let chunks = threads * 16
        let perChunk = count / chunks
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: chunks)
        defer { sums.deallocate() }
        var best = 0.0
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            pool.parallelFor(chunks) { chunk, _ in
                var a = SIMD16<Float>()
                var b = SIMD16<Float>()
                let base = buffer + chunk * perChunk
                var i = 0
                while i + 2 <= perChunk {
                    a += base[i]
                    b += base[i + 1]
                    i += 2
                }
                sums[chunk] = (a + b).sum()
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(chunks * perChunk * MemoryLayout<SIMD16<Float>>.size) / seconds / 1e9)
        }
        return best
    }
}
