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
            "profile": profile.map { $0.jsonObject } ?? NSNull(),
            "device": device,
            "device_decode_us_per_token": deviceDecodeMicroseconds.map { $0 as Any } ?? NSNull(),
            "device_decode_share": deviceDecodeShare.map { $0 as Any } ?? NSNull(),
            "device_profile": deviceProfile.map { $0.jsonObject } ?? NSNull(),
            "batch_decode": batchDecode.map {
                [
                    "batch_size": $0.batchSize, "decode_tokens": $0.tokens, "decode_seconds": $0.seconds,
                    "decode_tokens_per_s": $0.tokensPerSecond,
                ]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Four lines: the model, prefill, decode, and memory; on a Vulkan device, the device and its share of a decode
    /// step; a line per batch size; then the decode profile when there is one.
    public var text: String {
        let lines = [
            "model \(modelName), weights \(weightFormat) (\(matrixTypes.joined(separator: ", "))), "
                + "\(threads) threads, loaded in \(String(format: "%.2f", loadSeconds)) s",
            String(
                format: "prefill  %4d tokens: %7.1f tokens/s best, %7.1f median", promptTokens,
                prefillTokensPerSecond, prefillTokensPerSecondMedian),
            String(
                format: "decode   %4d tokens: %7.1f tokens/s best, %7.1f median", decodeTokens,
                decodeTokensPerSecond, decodeTokensPerSecondMedian),
            "peak RSS \(peakResidentText); memory bandwidth " + String(format: "%.1f GB/s", memoryBandwidthGBps),
        ]
        var deviceLines: [String] = []
        if device != "cpu" {
            if let us = deviceDecodeMicroseconds, let share = deviceDecodeShare {
                deviceLines.append(
                    "device   \(device): "
                        + String(format: "%.1f µs a decode token on the device, %.1f%% of the step", us, 100 * share))
            } else {
                deviceLines.append("device   \(device): no device time (its queue writes no timestamps)")
            }
        }
        let batchLines = batchDecode.map {
            String(
                format: "batch %4d × %4d tokens: %7.1f tokens/s decode (all sequences, after their prefills)",
                $0.batchSize, decodeTokens, $0.tokensPerSecond)
        }
        return (lines + deviceLines + batchLines + (profile?.lines ?? []) + (deviceProfile?.lines ?? []))
            .joined(separator: "\n")
    }
}

extension DeviceProfile {
    var jsonObject: [String: Any] {
        [
            "step_us": stepMicroseconds, "device_us": deviceMicroseconds, "other_device_us": otherMicroseconds,
            "kernels": kernels.map {
                [
                    "name": $0.name, "dispatches_per_token": $0.dispatches, "us_per_token": $0.microseconds,
                    "share": deviceMicroseconds > 0 ? $0.microseconds / deviceMicroseconds : 0,
                ]
            },
        ]
    }

    /// A table: each kernel's device microseconds per token and share of the pass's device time.
    var lines: [String] {
        func row(_ name: String, _ dispatches: String, _ us: Double) -> String {
            "  " + pad(name, 38, left: true) + pad(dispatches, 10)
                + String(format: " %9.1f  %5.1f%%", us, deviceMicroseconds > 0 ? 100 * us / deviceMicroseconds : 0)
        }
        var out = [
            "device profile (per token, one more decode pass after the timed ones, every dispatch timed):",
            "  " + pad("kernel", 38, left: true) + pad("dispatches", 10) + pad("µs", 10) + pad("share", 8),
        ]
        for k in kernels { out.append(row(k.name, String(format: "%.0f", k.dispatches), k.microseconds)) }
        out.append(row("other (copies, barriers)", "", otherMicroseconds))
        out.append(row("device", "", deviceMicroseconds))
        out.append(
            String(
                format: "  of which: the step's wall time %.1f µs, the device %.1f%% of it (timing every dispatch "
                    + "slows the pass)", stepMicroseconds,
                stepMicroseconds > 0 ? 100 * deviceMicroseconds / stepMicroseconds : 0))
        return out
    }
}

extension EngineProfile {
    var jsonObject: [String: Any] {
        [
            "step_us": stepMicroseconds, "sampling_us": samplingMicroseconds, "other_us": otherMicroseconds,
            "pool_hand_offs_per_token": poolHandOffs, "pool_hand_off_us": poolHandOffMicroseconds,
            "operations": rows.map { ["name": $0.name, "calls_per_token": $0.calls, "us_per_token": $0.microseconds] },
        ]
    }

    /// A table: each operation's microseconds per token and share of the step.
    var lines: [String] {
        func row(_ name: String, _ calls: String, _ us: Double) -> String {
            "  " + pad(name, 38, left: true) + pad(calls, 6)
                + String(format: " %9.1f  %5.1f%%", us, 100 * us / stepMicroseconds)
        }
        var out = [
            "decode profile (per token, one more decode pass after the timed ones):",
            "  " + pad("operation", 38, left: true) + pad("calls", 6) + pad("µs", 10) + pad("share", 8),
        ]
        for r in rows { out.append(row(r.name, String(format: "%.0f", r.calls), r.microseconds)) }
        out.append(row("other (embedding, sampling, decoder)", "", otherMicroseconds))
        out.append(row("step", "", stepMicroseconds))
        out.append(
            String(
                format:
                    "  of which: greedy sampling %.1f µs (timed apart); thread-pool hand-offs %.0f × %.2f µs = %.1f µs"
                    + " (an empty parallel loop timed apart, inside the operations above)",
                samplingMicroseconds, poolHandOffs, poolHandOffMicroseconds, poolHandOffs * poolHandOffMicroseconds))
        return out
    }
}

/// `text` padded with spaces to `width` characters: on the right when `left` (left-aligned), else on the left.
private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + fill : fill + text
}
