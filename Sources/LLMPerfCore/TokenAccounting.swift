import Foundation

/// What a run's token counts say about the server's honesty, tallied one request at a time
/// (nothing kept per request): requests that stopped short of a fixed length the workload asked
/// for, and requests whose `usage` reported fewer output tokens than content events arrived.
public struct TokenAccounting: Sendable, Equatable {
    /// `max_tokens` when the workload asked for exactly that many tokens (`extra_body`
    /// `ignore_eos: true`, as vLLM and SGLang take it, or `min_tokens` equal to `max_tokens`);
    /// nil when the answer may stop early.
    public var fixedLength: Int?
    /// Measured, successful requests seen.
    public private(set) var requests = 0
    /// Of those, the ones with fewer output tokens than `fixedLength`.
    public private(set) var shortOfFixedLength = 0
    /// Of those, the ones whose `usage` reported fewer tokens than arrived (`usage_diff` < 0).
    public private(set) var usageBelowArrived = 0

    public init(workload: WorkloadSpec) {
        fixedLength = TokenAccounting.fixedLength(of: workload)
    }

    public static func fixedLength(of workload: WorkloadSpec) -> Int? {
        guard let maxTokens = workload.maxTokens else { return nil }
        for field in workload.extraBody {
            if field.key == "ignore_eos", field.value == .bool(true) { return maxTokens }
            if field.key == "min_tokens", field.value == .integer(maxTokens) { return maxTokens }
        }
        return nil
    }

    public mutating func add(_ trace: RequestTrace) {
        guard !trace.isWarmup, trace.succeeded else { return }
        requests += 1
        if let fixedLength, trace.outputTokens < fixedLength { shortOfFixedLength += 1 }
        if let diff = Metric.usageDiff.value(of: trace), diff < 0 { usageBelowArrived += 1 }
    }

    /// Sentences for the run's output, empty when all is well.
    public var warnings: [String] {
        var out: [String] = []
        if let fixedLength, shortOfFixedLength > 0 {
            out.append(
                "\(shortOfFixedLength) of \(requests) requests stopped short of the \(fixedLength) tokens asked for "
                    + "(a fixed length: ignore_eos or min_tokens): the server did not honour it, so per-request "
                    + "lengths differ")
        }
        if usageBelowArrived > 0 {
            out.append(
                "for \(usageBelowArrived) of \(requests) requests the server's usage reported fewer output tokens than "
                    + "arrived (usage_diff < 0): output_tokens follows usage; check the server's token accounting")
        }
        return out
    }
}
