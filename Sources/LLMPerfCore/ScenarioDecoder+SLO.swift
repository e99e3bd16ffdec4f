import Foundation

extension ScenarioDecoder {
    static let sloStatistics = ["p50", "p90", "p95", "p99", "mean", "min", "max"]
    static let sloRunKeys = ["error_rate", "output_tokens_per_s", "requests_per_s", "goodput"]

    /// `slo:` entries in file order. Latency limits are stored in milliseconds, rates and
    /// goodput as fractions, throughput per second (see `SLOThreshold`).
    func slo(_ node: ScenarioNode) throws(ScenarioError) -> [SLOThreshold] {
        let path = ["slo"]
        let entries = try mapping(node, path, allowed: nil)
        var thresholds: [SLOThreshold] = []
        let metricNames = Metric.allCases.map(\.rawValue)
        for entry in entries where !entry.value.isNull {
            let keyPath = path + [entry.key]
            let value = entry.value
            switch entry.key {
            case "error_rate":
                thresholds.append(
                    SLOThreshold(
                        key: entry.key, metric: nil, statistic: nil, limit: try fraction(value, keyPath),
                        isUpperBound: true))
            case "goodput":
                thresholds.append(
                    SLOThreshold(
                        key: entry.key, metric: nil, statistic: nil, limit: try fraction(value, keyPath),
                        isUpperBound: false))
            case "output_tokens_per_s", "requests_per_s":
                let limit = try number(
                    value, keyPath, in: 0...Double.greatestFiniteMagnitude, expected: "a number per second ≥ 0")
                thresholds.append(
                    SLOThreshold(key: entry.key, metric: nil, statistic: nil, limit: limit, isUpperBound: false))
            default:
                let parts = entry.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, let metric = Metric(rawValue: parts[0]) else {
                    let candidates =
                        Self.sloRunKeys + metricNames.map { "\($0).\(parts.count == 2 ? parts[1] : "p95")" }
                    let suggestion = ScenarioSuggestion.closest(to: entry.key, in: candidates)
                    let hint =
                        suggestion.map { "did you mean '\($0)'?" }
                        ?? "expected METRIC.STAT (such as ttft.p95) or one of \(Self.sloRunKeys.joined(separator: ", "))"
                    throw error(
                        .unknownKey(suggestion: suggestion), line: entry.keyLine, column: entry.keyColumn,
                        origin: value.variant, keyPath, "unknown key; \(hint)")
                }
                guard Self.sloStatistics.contains(parts[1]) else {
                    var message =
                        "unknown statistic '\(parts[1])'; expected one of \(Self.sloStatistics.joined(separator: ", "))"
                    if let suggestion = ScenarioSuggestion.closest(to: parts[1], in: Self.sloStatistics) {
                        message = "unknown statistic '\(parts[1])'; did you mean '\(suggestion)'?"
                    }
                    throw error(
                        .unknownKey(suggestion: nil), line: entry.keyLine, column: entry.keyColumn,
                        origin: value.variant,
                        keyPath, message)
                }
                let limit: Double
                switch metric.unit {
                case .milliseconds:
                    limit = try duration(value, keyPath, allowZero: true).millisecondsValue
                case .tokens:
                    limit = try number(
                        value, keyPath, in: 0...Double.greatestFiniteMagnitude, expected: "a token count ≥ 0")
                }
                thresholds.append(
                    SLOThreshold(key: entry.key, metric: metric, statistic: parts[1], limit: limit, isUpperBound: true))
            }
        }
        return thresholds
    }
}
