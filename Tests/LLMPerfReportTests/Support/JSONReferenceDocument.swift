import Foundation
import LLMPerfCore

@testable import LLMPerfReport

/// `report --format json` as a plain `Encodable` document: `JSONEncoder`'s output for it is
/// the reference the fast `JSONTextWriter` output must equal byte for byte.
struct JSONReferenceDocument: Encodable {
    var format = "llmperf-report"
    var formatVersion = 1
    var title: String
    var runs: [Run]
    var comparison: RunComparison?
    var gate: GateDocument?

    struct Run: Encodable {
        var run: RunInfo
        var summary: JSONReportSummary
        var breakdown: BreakdownJSON?
        var requests: [Request]
    }

    /// One request: the recorded trace fields, then the derived per-request metrics (ms).
    struct Request: Encodable {
        var index: Int
        var warmup: Bool
        var promptIndex: Int
        var scheduledAtNanos: UInt64?
        var startedAtNanos: UInt64
        var dnsNanos: UInt64
        var connectNanos: UInt64
        var tlsNanos: UInt64
        var sentNanos: UInt64
        var firstByteNanos: UInt64?
        var endedAtNanos: UInt64
        var chunkAtNanos: [UInt64]
        var chunkTokens: [UInt32]
        var chunkReasoning: [Bool]?
        var reasoningTokens: Int?
        var usage: TokenUsage?
        var serverTimings: ServerTimings?
        var inputTokens: Int?
        var outputTokens: Int
        var outputTokenSource: TokenCountSource
        var outcome: String
        var errorDetail: String?
        var httpStatus: Int
        var connection: ConnectionInfo
        var outputText: String
        /// Metric name → value, for the metrics the request has (ms; tokens for token counts).
        var metrics: [String: Double]

        static let derived: [Metric] = [
            .dns, .tcp, .tls, .ttfb, .ttft, .ttftScheduled, .ttfa, .reasoningTime, .queue, .tpot, .e2e, .total,
            .usageDiff, .serverPrompt, .serverGeneration, .serverTotal, .serverQueue, .serverPreprocess,
            .serverPostprocess, .networkClient,
        ]

        init(_ t: RequestTrace) {
            index = t.index
            warmup = t.isWarmup
            promptIndex = t.promptIndex
            scheduledAtNanos = t.scheduledAtNanos
            startedAtNanos = t.startedAtNanos
            dnsNanos = t.dnsNanos
            connectNanos = t.connectNanos
            tlsNanos = t.tlsNanos
            sentNanos = t.sentNanos
            firstByteNanos = t.firstByteNanos
            endedAtNanos = t.endedAtNanos
            chunkAtNanos = t.chunkAtNanos
            chunkTokens = t.chunkTokens
            chunkReasoning = t.hasReasoningChunks ? t.chunkReasoning : nil
            reasoningTokens = t.reasoningTokens
            usage = t.usage
            serverTimings = t.serverTimings
            inputTokens = t.inputTokens
            outputTokens = t.outputTokens
            outputTokenSource = t.outputTokenSource
            outcome = t.outcome.failureKind?.code ?? "ok"
            errorDetail = t.outcome.failureKind == nil ? nil : t.outcome.detail
            httpStatus = t.httpStatus
            connection = t.connection
            outputText = t.outputText
            var values: [String: Double] = [:]
            for metric in Request.derived {
                if metric == .ttftScheduled && t.scheduledAtNanos == nil { continue }
                if metric == .ttfa && !t.hasReasoningChunks { continue }
                if let value = metric.value(of: t) { values[metric.rawValue] = value }
            }
            metrics = values
        }
    }
}

extension JSONReferenceDocument {
    init(_ input: ReportInput) {
        self.init(
            title: input.title,
            runs: input.runs.map { run in
                Run(
                    run: run.info, summary: JSONReportSummary(run.summary),
                    breakdown: run.breakdown.map(BreakdownJSON.init),
                    requests: run.traces.map(Request.init))
            },
            comparison: input.comparison, gate: input.gate.map(GateDocument.init))
    }

    func encoded(pretty: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }
}
