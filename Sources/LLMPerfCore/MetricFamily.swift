import Foundation

/// The type a `# TYPE` line gives a metric family in the Prometheus text format (0.0.4). A family
/// no `# TYPE` line names is `untyped` (OpenMetrics' `unknown` reads as the same).
public enum MetricType: String, Sendable, Equatable, CaseIterable {
    case counter, gauge, histogram, summary, untyped
}

/// One metric family of an exposition: its name as its `# TYPE` (or `# HELP`) line wrote it, or,
/// for samples no such line claims, the samples' own name; its type, its help text (unescaped), and
/// its samples in the order they came, each with its full series name (`x_bucket`, `x_sum`,
/// `x_total`, …).
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var type: MetricType
    public var help: String?
    public var samples: [MetricSample]

    public init(name: String, type: MetricType, help: String? = nil, samples: [MetricSample] = []) {
        self.name = name
        self.type = type
        self.help = help
        self.samples = samples
    }
}
