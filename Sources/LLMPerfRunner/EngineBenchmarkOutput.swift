import Foundation

/// What `llmperf bench-engine` prints.
extension EngineBenchmarkResult {
    /// Pretty-printed JSON with sorted snake_case keys (`peak_rss_bytes` is null when unknown).
    public func json() throws -> String {
        let object: [String: Any] = [
            "model": modelName, "weights": weightFormat.rawValue, "matrix_types": matrixTypes,
            "threads": threads, "prompt_tokens": promptTokens,
            "decode_tokens": decodeTokens, "load_seconds": loadSeconds,
            "prefill_tokens_per_s_best": prefillTokensPerSecond,
            "prefill_tokens_per_s_median": prefillTokensPerSecondMedian,
            "decode_tokens_per_s_best": decodeTokensPerSecond,
            "decode_tokens_per_s_median": decodeTokensPerSecondMedian,
            "peak_rss_bytes": peakResidentBytes.map { $0 as Any } ?? NSNull(),
            "memory_bandwidth_gb_per_s": memoryBandwidthGBps,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Four lines: the model, prefill, decode, and memory.
    public var text: String {
        [
            "model \(modelName), weights \(weightFormat) (\(matrixTypes.joined(separator: ", "))), "
                + "\(threads) threads, loaded in \(String(format: "%.2f", loadSeconds)) s",
            String(
                format: "prefill  %4d tokens: %7.1f tokens/s best, %7.1f median", promptTokens,
                prefillTokensPerSecond, prefillTokensPerSecondMedian),
            String(
                format: "decode   %4d tokens: %7.1f tokens/s best, %7.1f median", decodeTokens,
                decodeTokensPerSecond, decodeTokensPerSecondMedian),
            "peak RSS \(peakResidentText); memory bandwidth " + String(format: "%.1f GB/s", memoryBandwidthGBps),
        ].joined(separator: "\n")
    }
}
