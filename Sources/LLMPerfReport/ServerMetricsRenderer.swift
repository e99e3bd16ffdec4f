import Foundation
import LLMPerfCore

/// The server's metrics beside the client's numbers, after a run that scraped them (`target.metrics`):
/// which endpoint, how many scrapes (and why the last failed one failed), then one row per quantity both
/// sides have — the server's value, the client's, and the difference. For latencies the difference is
/// what lies outside the server's clock: the network and the client. Histogram quantiles are interpolated
/// within the server's buckets, so they are as coarse as its buckets are wide.
public enum ServerMetricsRenderer {
    public static func render(
        url: String, scrapes: Int, failures: Int, lastError: String?, reconciliation: MetricsReconciliation,
        style: TerminalStyle
    ) -> String {
        var out = style.apply(.bold, "server metrics") + "  \(url)  (\(scrapes) scrape\(scrapes == 1 ? "" : "s")"
        out += failures > 0 ? ", \(failures) failed" : ", none failed"
        if let server = reconciliation.server { out += "; \(server)" }
        out += ")\n"
        if failures > 0, let lastError {
            out += style.apply(.yellow, "  last failure: \(lastError)") + "\n"
        }
        guard !reconciliation.rows.isEmpty else {
            out += "  nothing to set beside the client's numbers: "
            out +=
                scrapes - failures < 2
                ? "fewer than two scrapes worked\n"
                : "the endpoint has none of the metrics llmperf knows (they are stored: llmperf report --format json)\n"
            return out
        }
        var table = TextTable(headers: ["", "server", "client", "client − server"])
        for row in reconciliation.rows {
            table.add([
                TextTable.Cell(row.what), TextTable.Cell(text(row.server, row.unit)),
                TextTable.Cell(text(row.client, row.unit)),
                TextTable.Cell(text(row.difference, row.unit, signed: true)),
            ])
        }
        out += table.render(style: style)
        return out
    }

    /// Milliseconds to the hundredth (differences between the two clocks are often below one), counts whole.
    static func text(_ value: Double?, _ unit: MetricsReconciliation.Unit, signed: Bool = false) -> String {
        guard let value, value.isFinite else { return "—" }
        let sign = signed && value > 0 ? "+" : ""
        switch unit {
        case .milliseconds: return sign + String(format: "%.2f ms", value)
        case .tokens: return sign + String(format: "%.0f tokens", value)
        case .requests: return sign + String(format: "%.0f", value)
        }
    }
}
