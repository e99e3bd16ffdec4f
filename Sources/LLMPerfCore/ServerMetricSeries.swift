import Foundation

/// A server metric over a run, for drawing on the run's time axis: one point per successful
/// scrape (a gauge) or per interval between consecutive successful scrapes (a counter's rate, a
/// histogram's mean), at the later scrape's time. Failed scrapes are skipped, and so are scrapes
/// that lack the metric, except before its first appearance: a counter or histogram a server
/// creates on first use (TGI's) counts from zero there.
public enum ServerMetricSeries {
    public struct Point: Sendable, Equatable {
        /// The scrape's time on the run's clock.
        public var atNanos: UInt64
        public var value: Double

        public init(atNanos: UInt64, value: Double) {
            self.atNanos = atNanos
            self.value = value
        }
    }

    /// `meaning` over the scrapes, from the server's entry the scrapes hold (`ServerMetricCatalog.entry(for:in:)`):
    /// - a gauge: its value at each scrape (its label sets summed, the KV cache's share averaged), scaled;
    /// - a counter: its rate per second between consecutive scrapes, scaled (after a reset, the new
    ///   count over the interval, as Prometheus's `rate` takes it);
    /// - a histogram: the mean of the observations made between consecutive scrapes, scaled, for
    ///   intervals with any. Its quantiles are left to `HistogramSnapshot.quantile` over a whole
    ///   window: bucket-interpolated, they carry a bucket's width as error, which an interval of a
    ///   few observations cannot narrow.
    /// Empty when no scrape holds the metric.
    public static func series(_ meaning: ServerMetricMeaning, from scrapes: [MetricsScrape]) -> [Point] {
        let successful = scrapes.filter { $0.error == nil }.sorted { $0.atNanos < $1.atNanos }
        guard let entry = ServerMetricCatalog.entry(for: meaning, in: successful) else { return [] }
        switch meaning.kind {
        case .histogram:
            return histogramMeans(entry, successful)
        case .counter:
            return counterRates(entry, successful)
        default:
            return successful.compactMap { scrape in
                entry.value(in: scrape.samples).map { Point(atNanos: scrape.atNanos, value: $0) }
            }
        }
    }

    static func counterRates(_ entry: ServerMetricCatalog.Entry, _ scrapes: [MetricsScrape]) -> [Point] {
        var points: [Point] = []
        var previous: (atNanos: UInt64, value: Double)?
        for (scrape, value) in counterValues(entry, scrapes) {
            if let previous, scrape.atNanos > previous.atNanos {
                let increase = value >= previous.value ? value - previous.value : value
                let seconds = Double(scrape.atNanos - previous.atNanos) / 1e9
                points.append(Point(atNanos: scrape.atNanos, value: increase / seconds))
            }
            previous = (scrape.atNanos, value)
        }
        return points
    }

    /// A counter's value at each scrape that has it, with 0 at the scrapes before its first
    /// appearance (a counter created on first use).
    static func counterValues(
        _ entry: ServerMetricCatalog.Entry, _ scrapes: [MetricsScrape]
    ) -> [(scrape: MetricsScrape, value: Double)] {
        let values = scrapes.map { entry.value(in: $0.samples) }
        guard let first = values.firstIndex(where: { $0 != nil }) else { return [] }
        return zip(scrapes, values).enumerated().compactMap { index, pair in
            if let value = pair.1 { return (pair.0, value) }
            return index < first ? (pair.0, 0) : nil
        }
    }

    static func histogramMeans(_ entry: ServerMetricCatalog.Entry, _ scrapes: [MetricsScrape]) -> [Point] {
        var points: [Point] = []
        var previous: HistogramSnapshot?
        var seen = false
        for scrape in scrapes {
            guard let snapshot = entry.histogram(in: scrape.samples) else {
                // Before the histogram's first appearance it had no observations.
                if !seen { previous = HistogramSnapshot(buckets: [], sum: 0, count: 0) }
                continue
            }
            if let previous, let mean = snapshot.subtracting(previous).mean {
                points.append(Point(atNanos: scrape.atNanos, value: mean))
            }
            previous = snapshot
            seen = true
        }
        return points
    }
}
