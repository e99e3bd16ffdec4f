import Foundation
import LLMPerfCore

/// A sweep as a terminal table, CSV and Markdown: one row a point, in load order, with the capacity, the
/// knee and each point's flags marked, then what bound the capacity.
public enum SweepText {
    static func number(_ value: Double?) -> String { value.map(SweepOver.format) ?? "–" }

    static func percent(_ value: Double?) -> String {
        value.map { DecimalText.trimmed($0 * 100, fractionDigits: 1) + "%" } ?? "–"
    }

    /// Each point's marks: capacity, knee, saturated, client.
    public static func marks(_ point: SweepPoint, in result: SweepResult) -> [String] {
        var marks: [String] = []
        if point.variant == result.capacity?.variant { marks.append("capacity") }
        if point.variant == result.knee?.variant { marks.append("knee") }
        if point.saturated { marks.append("saturated") }
        if point.clientBound { marks.append("client") }
        return marks
    }

    static let headers = [
        "load", "req/s", "out tok/s", "tok/s/user", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "goodput",
        "failed", "slo", "client CPU", "steady",
    ]

    static func cells(_ point: SweepPoint) -> [String] {
        [
            point.variant, number(point.requestsPerSecond), number(point.outputTokensPerSecond),
            number(point.tokensPerSecondPerUser), number(point.ttft?.p50), number(point.ttft?.p99),
            number(point.tpot?.p50), number(point.tpot?.p99), percent(point.goodput), String(point.failed),
            point.slo.map { $0.met ? "met" : $0.rules.contains { $0.verdict == .missed } ? "missed" : "unsure" }
                ?? "–",
            point.clientLoad.map { String(Int(($0.cpuShare * 100).rounded())) + "%" } ?? "–",
            point.steadyWindow.map { String(format: "%.1fs", $0.seconds) } ?? "all",
        ]
    }

    public static func render(_ result: SweepResult, style: TerminalStyle) -> String {
        var table = TextTable(headers: headers + [""])
        for point in result.points {
            var row = cells(point).map { TextTable.Cell($0) }
            switch row[10].text {
            case "met": row[10].style = .green
            case "missed", "unsure": row[10].style = .red
            default: break
            }
            row.append(TextTable.Cell(marks(point, in: result).joined(separator: ", ")))
            table.add(row)
        }
        let record = result.record
        var title = "sweep \(record.name) \(record.batchID) over \(record.over.rawValue)"
        if record.search == .findCapacity { title += ", capacity search" }
        if record.status != .completed { title += " (\(record.status.rawValue))" }
        var out = style.apply(.bold, title + " (times in ms)") + "\n" + table.render(style: style)
        out += summaryLines(result).map { $0 + "\n" }.joined()
        return out
    }

    /// The capacity, what bound it and why a search stopped, as sentences.
    public static func summaryLines(_ result: SweepResult) -> [String] {
        var lines: [String] = []
        let over = result.record.over
        if let capacity = result.capacity {
            var line =
                "capacity: \(over.text(capacity.load)), \(number(capacity.requestsPerSecond)) requests/s, "
                + "\(number(capacity.outputTokensPerSecond)) output tokens/s"
            if let good = capacity.goodRequestsPerSecond { line += ", goodput \(number(good)) requests/s" }
            lines.append(line)
        } else if !result.points.isEmpty {
            lines.append("capacity: none (the lowest load was already bad)")
        }
        if let bad = result.firstBad {
            switch result.binding {
            case .slo:
                lines.append(
                    "bound by the slo: at \(over.text(bad.load)) \(result.bindingReasons.joined(separator: "; "))")
            case .saturation:
                lines.append("bound by saturation: at \(over.text(bad.load)) throughput grew less than 5% per doubling")
            case .client:
                lines.append(
                    "the client was the bottleneck at \(over.text(bad.load)) (\(result.bindingReasons.joined(separator: ", "))): "
                        + "the capacity above is a lower bound of the endpoint's; measure from a bigger client, "
                        + "or from several")
            case .none:
                break
            }
        } else if result.capacity != nil {
            lines.append("no point was bad: the capacity is at least the highest load measured")
        }
        if let reason = result.record.stopReason, reason != CapacitySearch.Stop.resolved.rawValue,
            reason != CapacitySearch.Stop.clientBound.rawValue
        {
            lines.append("search stopped: \(reason.replacingOccurrences(of: "_", with: " "))")
        }
        return lines
    }

    /// One CSV row a point of each sweep (RFC 4180), times in ms, with the run id and the marks.
    public static func csv(_ sweeps: [SweepResult]) -> String {
        var writer = CSVWriter()
        writer.record(
            [
                "sweep", "over", "load", "variant", "run_id", "requests", "failed", "requests_per_s",
                "output_tokens_per_s", "tokens_per_s_per_user", "ttft_p50_ms", "ttft_p99_ms", "tpot_p50_ms",
                "tpot_p99_ms", "goodput", "slo", "client_cpu_share", "client_lag_p99_ms", "send_lag_p50_ms",
                "send_lag_p99_ms", "steady_seconds", "marks",
            ])
        for result in sweeps {
            rows(of: result, to: &writer)
        }
        return writer.text
    }

    static func rows(of result: SweepResult, to writer: inout CSVWriter) {
        for point in result.points {
            let cpu = point.clientLoad.map { DecimalText.trimmed($0.cpuShare, fractionDigits: 4) } ?? ""
            let lag = point.clientLoad?.lagP99Milliseconds.map { DecimalText.trimmed($0, fractionDigits: 3) } ?? ""
            func value(_ v: Double?) -> String { v.map { DecimalText.trimmed($0, fractionDigits: 6) } ?? "" }
            writer.record([
                result.record.batchID, result.record.over.rawValue, value(point.load), point.variant, point.runID,
                String(point.requests), String(point.failed), value(point.requestsPerSecond),
                value(point.outputTokensPerSecond), value(point.tokensPerSecondPerUser), value(point.ttft?.p50),
                value(point.ttft?.p99), value(point.tpot?.p50), value(point.tpot?.p99), value(point.goodput),
                point.slo.map { $0.met ? "met" : "not met" } ?? "", cpu, lag,
                value(point.sendLagP50), value(point.sendLagP99),
                point.steadyWindow.map { DecimalText.trimmed($0.seconds, fractionDigits: 3) } ?? "",
                marks(point, in: result).joined(separator: " "),
            ])
        }
    }

    /// A Markdown table and the capacity lines.
    public static func markdown(_ result: SweepResult) -> String {
        var out = "## Sweep \(result.record.name) (\(result.record.batchID))\n\n"
        out += "| " + (headers + ["marks"]).joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: "---|", count: headers.count + 1) + "\n"
        for point in result.points {
            out += "| " + (cells(point) + [marks(point, in: result).joined(separator: ", ")]).joined(separator: " | ")
            out += " |\n"
        }
        out += "\n" + summaryLines(result).map { "- \($0)\n" }.joined()
        return out
    }
}
