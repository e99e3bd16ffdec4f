import Foundation
import LLMPerfCore

/// `report --format json`: the whole run(s): metadata, summary, every request with its chunk
/// times and derived metrics, the comparison and the gate results when there are. Keys
/// sorted, dates in ISO 8601, so the same input always gives the same bytes.
///
/// Shape: `{comparison?, format: "llmperf-report", formatVersion: 1, gate?, runs: [{breakdown?, requests:
/// [...], run: RunInfo, summary: {...}}], title}`; `breakdown` (`BreakdownJSON`) when the server
/// reported its own phases. A request: its recorded fields
/// (`startedAtNanos`, `chunkAtNanos`, `usage`, `connection`, `serverTimings` when the server
/// reported its own, …), `outcome` (`ok` or a failure
/// code) and `errorDetail`, the output token count and its source, and `metrics`: the
/// derived per-request values in ms by metric name.
///
/// The requests are written by `JSONTextWriter`, not `JSONEncoder` (which took 20 s and
/// 1.5 GB for two runs of 100,000 requests); the tests check that both give the same bytes.
public enum JSONReport {
    static let derivedMetrics: [Metric] = [
        .dns, .tcp, .tls, .ttfb, .ttft, .ttftScheduled, .ttfa, .reasoningTime, .queue, .tpot, .e2e, .total, .usageDiff,
        .serverPrompt, .serverGeneration, .serverTotal, .serverQueue, .serverPreprocess, .serverPostprocess,
        .networkClient,
    ]
    .sorted { $0.rawValue < $1.rawValue }

    /// `pretty`: indented, one value a line (as `JSONEncoder.prettyPrinted`); compact output is
    /// much smaller for runs with many chunks. Both are deterministic.
    public static func encode(_ input: ReportInput, pretty: Bool = true) throws -> Data {
        var data = Data()
        try write(input, pretty: pretty) { data.append($0) }
        return data
    }

    /// `encode` as text.
    public static func render(_ input: ReportInput, pretty: Bool = true) throws -> String {
        String(decoding: try encode(input, pretty: pretty), as: UTF8.self)
    }

    /// Streams the report into `handle` (a file, stdout) a megabyte at a time.
    public static func write(_ input: ReportInput, pretty: Bool = true, to handle: FileHandle) throws {
        try write(input, pretty: pretty) { try handle.write(contentsOf: $0) }
    }

    /// Streams the report to `sink` in pieces of about a megabyte.
    public static func write(_ input: ReportInput, pretty: Bool = true, to sink: (Data) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        var json = JSONTextWriter(pretty: pretty, reservingCapacity: 1 << 21)
        json.beginObject()
        if let comparison = input.comparison {
            json.key("comparison")
            json.fragment(try encoder.encode(comparison))
        }
        json.key("format")
        json.string("llmperf-report")
        json.key("formatVersion")
        json.int(1)
        if let gate = input.gate {
            json.key("gate")
            json.fragment(try encoder.encode(GateDocument(gate)))
        }
        json.key("runs")
        json.beginArray()
        for run in input.runs {
            json.beginObject()
            if let breakdown = run.breakdown {
                json.key("breakdown")
                json.fragment(try encoder.encode(BreakdownJSON(breakdown)))
            }
            json.key("requests")
            json.beginArray()
            for i in run.traces.indices {
                writeRequest(run.traces[i], to: &json)
                if json.bytes.count >= 1 << 20 { try json.flush(to: sink) }
            }
            json.endArray()
            json.key("run")
            json.fragment(try encoder.encode(run.info))
            json.key("summary")
            json.fragment(try encoder.encode(JSONReportSummary(run.summary, loadDescription: run.info.loadDescription)))
            json.endObject()
        }
        json.endArray()
        json.key("title")
        json.string(input.title)
        json.endObject()
        try json.flush(to: sink)
        try sink(Data([0x0A]))
    }

    /// One request, keys in sorted order.
    static func writeRequest(_ t: RequestTrace, to json: inout JSONTextWriter) {
        json.beginObject()
        json.key("chunkAtNanos")
        json.array(t.chunkAtNanos)
        if t.hasReasoningChunks {
            json.key("chunkReasoning")
            json.beginArray()
            for flag in t.chunkReasoning { json.bool(flag) }
            json.endArray()
        }
        json.key("chunkTokens")
        json.array(t.chunkTokens)
        json.key("connectNanos")
        json.uint64(t.connectNanos)
        json.key("connection")
        json.beginObject()
        json.key("httpVersion")
        json.string(t.connection.httpVersion)
        json.key("remoteAddress")
        json.string(t.connection.remoteAddress)
        json.key("reused")
        json.bool(t.connection.reused)
        json.endObject()
        json.key("dnsNanos")
        json.uint64(t.dnsNanos)
        json.key("endedAtNanos")
        json.uint64(t.endedAtNanos)
        if t.outcome.failureKind != nil {
            json.key("errorDetail")
            json.string(t.outcome.detail)
        }
        json.field("firstByteNanos", t.firstByteNanos)
        json.key("httpStatus")
        json.int(t.httpStatus)
        json.key("index")
        json.int(t.index)
        json.field("inputTokens", t.inputTokens)
        json.key("metrics")
        json.beginObject()
        for metric in derivedMetrics {
            if metric == .ttftScheduled && t.scheduledAtNanos == nil { continue }
            if metric == .ttfa && !t.hasReasoningChunks { continue }  // it would repeat ttft
            guard let value = metric.value(of: t) else { continue }
            json.key(metric.rawValue)
            json.double(value)
        }
        json.endObject()
        json.key("outcome")
        json.string(t.outcome.failureKind?.code ?? "ok")
        json.key("outputText")
        json.string(t.outputText)
        json.key("outputTokenSource")
        json.string(t.outputTokenSource.rawValue)
        json.key("outputTokens")
        json.int(t.outputTokens)
        json.key("promptIndex")
        json.int(t.promptIndex)
        json.field("reasoningTokens", t.reasoningTokens)
        json.field("scheduledAtNanos", t.scheduledAtNanos)
        json.key("sentNanos")
        json.uint64(t.sentNanos)
        json.field("shard", t.shard)
        if let timings = t.serverTimings {
            json.key("serverTimings")
            json.beginObject()
            json.field("batchSize", timings.batchSize)
            json.field("cachedTokens", timings.cachedTokens)
            json.field("draftAcceptedTokens", timings.draftAcceptedTokens)
            json.field("draftTokens", timings.draftTokens)
            json.field("generationNanos", timings.generationNanos)
            json.field("loadNanos", timings.loadNanos)
            json.field("postprocessNanos", timings.postprocessNanos)
            json.field("preprocessNanos", timings.preprocessNanos)
            json.field("promptNanos", timings.promptNanos)
            json.field("queueNanos", timings.queueNanos)
            json.field("totalNanos", timings.totalNanos)
            json.endObject()
        }
        json.key("startedAtNanos")
        json.uint64(t.startedAtNanos)
        json.key("tlsNanos")
        json.uint64(t.tlsNanos)
        if let usage = t.usage {
            json.key("usage")
            json.beginObject()
            json.field("cachedTokens", usage.cachedTokens)
            json.field("completionTokens", usage.completionTokens)
            json.field("promptTokens", usage.promptTokens)
            json.field("reasoningTokens", usage.reasoningTokens)
            json.endObject()
        }
        json.key("warmup")
        json.bool(t.isWarmup)
        json.endObject()
    }
}
