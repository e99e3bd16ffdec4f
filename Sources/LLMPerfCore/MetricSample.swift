import Foundation

/// One sample of a Prometheus exposition: a series name (with its `_bucket`, `_sum`, `_count`,
/// `_total` suffix as written), its labels, its value. Labels are kept sorted by name, so a
/// series has one spelling (`labelText`) wherever it is stored or compared.
public struct MetricSample: Sendable, Equatable, Hashable {
    public var name: String
    /// Sorted by label name; no name appears twice.
    public var labels: [MetricLabel]
    public var value: Double

    public init(name: String, labels: [MetricLabel] = [], value: Double) {
        self.name = name
        self.labels = labels.sorted { $0.name < $1.name }
        self.value = value
    }

    /// The value of label `name`, nil when the sample has none.
    public func label(_ name: String) -> String? { labels.first { $0.name == name }?.value }

    /// `{a="1",b="x\"y"}` (empty for no labels): the labels as the exposition format writes them,
    /// sorted; stored with the sample and parsed back by `MetricSample.labels(fromText:)`.
    public var labelText: String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.name)=\"\(MetricLabel.escaped($0.value))\"" }.joined(separator: ",") + "}"
    }
}

public struct MetricLabel: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// A label value with `\`, `"` and newlines escaped as the exposition format wants.
    public static func escaped(_ value: String) -> String {
        // Nearly every value has nothing to escape: checked on the bytes, it is returned as it is.
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
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

/// One scrape of a server's metrics endpoint during a run: when it was taken on the run's clock
/// (nanoseconds since the run's origin), how long the fetch took, and what it returned, or why
/// it failed (a failed scrape is recorded and the run goes on).
public struct MetricsScrape: Sendable, Equatable {
    public var sequence: Int
    public var atNanos: UInt64
    public var durationNanos: UInt64
    public var samples: [MetricSample]
    /// Why the scrape failed (unreachable, an HTTP status, unparseable text); nil when it worked.
    public var error: String?

    public init(sequence: Int, atNanos: UInt64, durationNanos: UInt64, samples: [MetricSample], error: String? = nil) {
        self.sequence = sequence
        self.atNanos = atNanos
        self.durationNanos = durationNanos
        self.samples = samples
        self.error = error
    }
}
