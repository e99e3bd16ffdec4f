/// A cumulative histogram rendered in Prometheus text exposition format.
struct PrometheusHistogram: Sendable {
    let name: String
    let help: String
    /// Upper bounds in seconds, ascending; `+Inf` is implied.
    let bounds: [Double]
    private(set) var counts: [UInt64]
    private(set) var sum: Double = 0
    private(set) var count: UInt64 = 0

    init(name: String, help: String, bounds: [Double]) {
        self.name = name
        self.help = help
        self.bounds = bounds
        self.counts = Array(repeating: 0, count: bounds.count)
    }

    /// Records `weight` observations of `value` (weight > 1: tokens that shared one write).
    mutating func observe(_ value: Double, weight: UInt64 = 1) {
        guard weight > 0 else { return }
        if let bucket = bounds.firstIndex(where: { value <= $0 }) {
            counts[bucket] += weight
        }
        sum += value * Double(weight)
        count += weight
    }

    func render(into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative: UInt64 = 0
        for (bound, bucketCount) in zip(bounds, counts) {
            cumulative += bucketCount
            out += "\(name)_bucket{le=\"\(PrometheusText.number(bound))\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(count)\n"
        out += "\(name)_sum \(PrometheusText.number(sum))\n"
        out += "\(name)_count \(count)\n"
    }
}

/// Number formatting for the exposition format.
enum PrometheusText {
    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value.isNaN { return "NaN" }
        return "\(value)"
    }

    static func labelValue(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
