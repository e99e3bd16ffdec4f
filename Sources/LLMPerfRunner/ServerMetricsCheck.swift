import Foundation
import LLMPerfCore

/// What a run's scrapes of the server's metrics endpoint came to: how many were taken and failed, and the
/// server's view reconciled with the client's over the same span.
public struct ServerMetricsCheck: Sendable, Equatable {
    public var url: String
    public var scrapes: Int
    public var failures: Int
    /// The last failure's reason, when any scrape failed.
    public var lastError: String?
    public var reconciliation: MetricsReconciliation

    public init(
        url: String, scrapes: Int, failures: Int, lastError: String?, reconciliation: MetricsReconciliation
    ) {
        self.url = url
        self.scrapes = scrapes
        self.failures = failures
        self.lastError = lastError
        self.reconciliation = reconciliation
    }

    /// Reads a run's scrapes and its requests back. The client's side counts every request of the run,
    /// warmup included and whatever its steady-state window: the server's counters and histograms between
    /// the first scrape (before the first request) and the last (after the last) saw all of them.
    static func of(runID: String, url: String, store: any RunRepository) throws -> ServerMetricsCheck {
        let scrapes = try store.scrapes(runID: runID)
        var ttft: [Double] = []
        var e2e: [Double] = []
        var outputTokens = 0
        var promptTokens = 0
        var promptKnown = true
        var ok = 0
        try store.forEachTrace(runID: runID, outputTextLimit: 0) { trace in
            guard trace.outcome == .ok else { return }
            ok += 1
            if let value = Metric.ttft.value(of: trace) { ttft.append(value) }
            if let value = Metric.total.value(of: trace) { e2e.append(value) }
            outputTokens += trace.outputTokens
            if let prompt = trace.usage?.promptTokens { promptTokens += prompt } else { promptKnown = false }
        }
        func quantiles(_ values: [Double]) -> MetricsReconciliation.Quantiles {
            guard !values.isEmpty else { return MetricsReconciliation.Quantiles() }
            let sorted = values.sorted()
            return MetricsReconciliation.Quantiles(
                p50: Quantile.of(sorted: sorted, 0.5), p90: Quantile.of(sorted: sorted, 0.9),
                p99: Quantile.of(sorted: sorted, 0.99), mean: ExactSum(sorted).value / Double(sorted.count))
        }
        let client = MetricsReconciliation.ClientSide(
            ttftMillis: quantiles(ttft), e2eMillis: quantiles(e2e), outputTokens: outputTokens,
            promptTokens: promptKnown && ok > 0 ? promptTokens : nil, requests: ok)
        let failed = scrapes.filter { $0.error != nil }
        return ServerMetricsCheck(
            url: url, scrapes: scrapes.count, failures: failed.count, lastError: failed.last?.error,
            reconciliation: MetricsReconciliation.reconcile(scrapes: scrapes, client: client))
    }
}
