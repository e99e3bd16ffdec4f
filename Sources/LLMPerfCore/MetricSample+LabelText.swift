import Foundation

extension MetricSample {
    /// The labels `labelText` wrote (`{a="1",b="x\"y"}`, or the empty string for none), read back
    /// as the exposition format reads a label set. Throws a `PrometheusParseError` (line 1, its
    /// column) for text that is not one label set.
    public static func labels(fromText text: String) throws -> [MetricLabel] {
        try PrometheusExposition.labels(ofLabelSet: text)
    }
}
