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

    /// Reads a run's scrapes and its requests back.
    static func of(runID: String, url: String, store: any RunRepository) throws -> ServerMetricsCheck {
        let (scrapes, reconciliation) = try reconcile(runID: runID, store: store)
        let failed = scrapes.filter { $0.error != nil }
        return ServerMetricsCheck(
            url: url, scrapes: scrapes.count, failures: failed.count, lastError: failed.last?.error,
            reconciliation: reconciliation)
    }

    /// A run's scrapes, and the server's view beside the client's over every request of the run, read one at a
    /// time (`MetricsReconciliation.ClientSide.Tally` says which count); no rows without scrapes.
    static func reconcile(runID: String, store: any RunRepository) throws
        -> (scrapes: [MetricsScrape], reconciliation: MetricsReconciliation)
    {
        let scrapes = try store.scrapes(runID: runID)
        guard !scrapes.isEmpty else { return ([], MetricsReconciliation(rows: [])) }
        var tally = MetricsReconciliation.ClientSide.Tally()
        try store.forEachTrace(runID: runID, outputTextLimit: 0) { tally.add($0) }
        return (scrapes, MetricsReconciliation.reconcile(scrapes: scrapes, client: tally.side))
    }
}
