import Foundation
import InferenceEngine
import LLMTokenizer

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
    /// Where a decode step's time goes (`--profile`); nil when not asked for.
    public var profile: EngineProfile? = nil
}

/// A decode step's time, operation by operation (`bench-engine --profile`), per generated token.
public struct EngineProfile: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        /// `matmul ffn_gate+ffn_up (Q4_1)`, `attention`, `rms_norm`, …
        public var name: String
        /// Calls per token.
        public var calls: Double
        /// Microseconds per token.
        public var microseconds: Double
    }
    /// Backend operations, slowest first.
    public var rows: [Row]
    /// Wall time of a decode step, microseconds per token (the profiled pass).
    public var stepMicroseconds: Double
    /// A greedy pick over the vocabulary's logits, timed apart, microseconds per token.
    public var samplingMicroseconds: Double
    /// Hand-offs to the thread pool per token (one per matrix product and per attention call) and the cost of
    /// one, an empty `parallelFor` timed apart: this share is inside the operations' times above.
    public var poolHandOffs: Double
    public var poolHandOffMicroseconds: Double

    /// The step's time outside the backend: embedding lookup, sampling, the decoder's own work.
    public var otherMicroseconds: Double { stepMicroseconds - rows.reduce(0) { $0 + $1.microseconds } }
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
        weights: WeightFormat = .native, profile: Bool = false
    ) throws -> EngineBenchmarkResult {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let cpu = CPUBackend(threads: threads)
        let profiler = profile ? ProfilingBackend(wrapping: cpu) : nil
        let model = try TransformerModel.load(
            path: modelPath, threads: threads, contextLength: promptTokens + decodeTokens + 1, weights: weights,
            backend: profiler ?? cpu)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let cache = model.makeCache()
        let buffers = ForwardBuffers(config: model.config)
        var prompt = model.tokenizer.encode(
            String(repeating: "The quick brown fox jumps over the lazy dog. ", count: promptTokens / 8 + 2),
            addSpecial: false)
        prompt = Array(prompt.prefix(promptTokens))
        var prefillRates: [Double] = []
        var decodeRates: [Double] = []
        var profiledDecodeNanoseconds: UInt64?
        for _ in 0..<max(1, repetitions) + (profile ? 1 : 0) {
            // With --profile, one more run after the timed ones: its decode steps are the breakdown.
            let profiled = profile && decodeRates.count == max(1, repetitions)
            // The prompt in one pass, which picks the first token; then `decodeTokens` greedy decode passes.
            let decoder = SequenceDecoder(
                model: model, cache: cache, promptTokens: prompt,
                parameters: GenerationParameters(maxTokens: decodeTokens + 1), ignoreEndOfSequence: true)
            let t0 = DispatchTime.now().uptimeNanoseconds
            var t1: UInt64?
            decoder.run(buffers: buffers) { _ in
                if t1 == nil {
                    // The prompt's pass is over: the profile counts decode steps only.
                    if profiled { profiler?.reset() }
                    t1 = DispatchTime.now().uptimeNanoseconds
                }
                return true
            }
            let t2 = DispatchTime.now().uptimeNanoseconds
            guard let t1 else { preconditionFailure("the prompt produced no token") }
            if profiled {
                profiledDecodeNanoseconds = t2 - t1
                continue
            }
            prefillRates.append(Double(prompt.count) / (Double(t1 - t0) / 1e9))
            decodeRates.append(Double(decodeTokens) / (Double(t2 - t1) / 1e9))
        }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        var breakdown: EngineProfile?
        if let profiler, let stepNanoseconds = profiledDecodeNanoseconds {
            let tokens = Double(decodeTokens)
            let rows = profiler.entries.sorted { $0.nanoseconds > $1.nanoseconds }.map {
                EngineProfile.Row(
                    name: $0.name, calls: Double($0.calls) / tokens, microseconds: Double($0.nanoseconds) / 1e3 / tokens
                )
            }
            let handOffs = profiler.entries.filter { $0.name.hasPrefix("matmul") || $0.name == "attention" }
                .reduce(0) { $0 + $1.calls }
            breakdown = EngineProfile(
                rows: rows, stepMicroseconds: Double(stepNanoseconds) / 1e3 / tokens,
                samplingMicroseconds: greedySampleMicroseconds(vocabularySize: model.vocabularySize),
                poolHandOffs: Double(handOffs) / tokens, poolHandOffMicroseconds: emptyLoopMicroseconds(cpu.pool))
        }
        return EngineBenchmarkResult(
            modelName: model.name, weightFormat: weights, matrixTypes: model.matrixTypes.map(\.name).sorted(),
            threads: threads, promptTokens: prompt.count, decodeTokens: decodeTokens,
            loadSeconds: loadSeconds, prefillTokensPerSecond: prefillRates.max()!,
            decodeTokensPerSecond: decodeRates.max()!, prefillTokensPerSecondMedian: median(prefillRates),
            decodeTokensPerSecondMedian: median(decodeRates),
            peakResidentBytes: peakResidentBytes(), memoryBandwidthGBps: measureMemoryBandwidth(threads: threads),
            profile: breakdown)
    }

    /// A greedy pick over `vocabularySize` logits, microseconds (median of 201).
    static func greedySampleMicroseconds(vocabularySize: Int) -> Double {
        var logits = [Float](repeating: 0, count: vocabularySize)
        var random = SplitMix64(state: 7)
        for i in logits.indices { logits[i] = Float(random.next() % 10_000) / 1000 }
        var sampler = Sampler(parameters: .greedy)
        var times: [UInt64] = []
        logits.withUnsafeBufferPointer { p in
            for _ in 0..<201 {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = sampler.sample(p.baseAddress!, count: vocabularySize)
                times.append(DispatchTime.now().uptimeNanoseconds - start)
            }
        }
        return Double(times.sorted()[times.count / 2]) / 1e3
    }

    /// One empty `parallelFor` over the pool's threads: the hand-off and barrier a parallel operation pays,
    /// microseconds (median of 2,001).
    static func emptyLoopMicroseconds(_ pool: ThreadPool) -> Double {
        var times: [UInt64] = []
        for _ in 0..<2001 {
            let start = DispatchTime.now().uptimeNanoseconds
            pool.parallelFor(pool.threadCount) { _, _ in }
            times.append(DispatchTime.now().uptimeNanoseconds - start)
        }
        return Double(times.sorted()[times.count / 2]) / 1e3
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
