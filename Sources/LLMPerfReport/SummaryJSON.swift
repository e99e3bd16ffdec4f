import Foundation
import LLMPerfCore

/// The JSON form of one run's summary (`--json`): stable keys, metrics by name.
public enum SummaryJSON {
    struct Document: Encodable {
        var run: RunInfo
        var requests: Int
        var succeeded: Int
        var failed: Int
        var warmup: Int
        var errorRate: Double
        var errorsByKind: [String: Int]
        var windowSeconds: Double
        var outputTokensPerSecond: Double
        var requestsPerSecond: Double
        var totalOutputTokens: Int
        var totalInputTokens: Int
        var metrics: [String: DistributionSummary]
    }

    static func document(run: RunInfo, summary: RunSummary) -> Document {
        Document(
            run: run, requests: summary.requests, succeeded: summary.succeeded, failed: summary.failed,
            warmup: summary.warmup, errorRate: summary.errorRate, errorsByKind: summary.errorsByKind,
            windowSeconds: summary.windowSeconds, outputTokensPerSecond: summary.outputTokensPerSecond,
            requestsPerSecond: summary.requestsPerSecond, totalOutputTokens: summary.totalOutputTokens,
            totalInputTokens: summary.totalInputTokens,
            metrics: Dictionary(uniqueKeysWithValues: summary.metrics.map { ($0.key.rawValue, $0.value) }))
    }

    public static func encode(run: RunInfo, summary: RunSummary) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(document(run: run, summary: summary)), as: UTF8.self)
    }

    public static func encode(runs: [(RunInfo, RunSummary)]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let docs = runs.map { document(run: $0.0, summary: $0.1) }
        return String(decoding: try encoder.encode(docs), as: UTF8.self)
    }
}
