import Foundation

extension ServerMetricCatalog.Entry {
    /// The names of the series that hold this entry's value: a gauge's name; a counter's by either
    /// spelling (with and without `_total`); the `_sum` of a histogram read as a counter. A
    /// histogram's own series are `name` + `_bucket`, `_sum`, `_count`.
    public var seriesNames: [String] {
        if readsHistogramSum { return [name + "_sum"] }
        switch meaning.kind {
        case .counter:
            return name.hasSuffix("_total") ? [name, String(name.dropLast(6))] : [name, name + "_total"]
        case .histogram:
            return [name + "_bucket", name + "_sum", name + "_count"]
        default:
            return [name]
        }
    }

    /// Whether a sample's labels let it count: all the required labels, none of the excluded ones.
    public func counts(_ sample: MetricSample) -> Bool {
        requiredLabels.allSatisfy { sample.label($0.name) == $0.value }
            && !excludedLabels.contains { sample.label($0.name) == $0.value }
    }

    /// This gauge's or counter's value in one scrape's samples, in the meaning's unit (× `scale`):
    /// its series summed over their label sets, except the KV cache's usage, a share, which is
    /// averaged over them (one per engine). Nil when the scrape has none of its series.
    public func value(in samples: [MetricSample]) -> Double? {
        let names = seriesNames
        var total = 0.0
        var series = 0
        for sample in samples where names.contains(sample.name) && counts(sample) {
            total += sample.value
            series += 1
        }
        guard series > 0 else { return nil }
        let value = meaning == .kvCacheUsage ? total / Double(series) : total
        return value * scale
    }

    /// This histogram in one scrape's samples, summed over its label sets, bounds and sum in the
    /// meaning's unit (× `scale`); nil when the scrape has none of its buckets.
    public func histogram(in samples: [MetricSample]) -> HistogramSnapshot? {
        let counted = requiredLabels.isEmpty && excludedLabels.isEmpty ? samples : samples.filter(counts)
        guard var snapshot = HistogramSnapshot.from(samples: counted, name: name) else { return nil }
        if scale != 1 {
            snapshot.buckets = snapshot.buckets.map {
                HistogramBucket(upperBound: $0.upperBound * scale, cumulativeCount: $0.cumulativeCount)
            }
            snapshot.sum *= scale
        }
        return snapshot
    }
}

extension ServerMetricCatalog {
    /// The entry of `meaning` that the scrapes hold: the first the catalog lists among those in the
    /// first successful scrape that holds any (a deprecated twin is exported beside its current
    /// name, and the current one comes first). Nil when no scrape holds one.
    public static func entry(for meaning: ServerMetricMeaning, in scrapes: [MetricsScrape]) -> Entry? {
        let candidates = entries(for: meaning)
        var rankOfName: [String: Int] = [:]
        for (rank, entry) in candidates.enumerated() {
            for name in entry.seriesNames where rankOfName[name] == nil { rankOfName[name] = rank }
        }
        for scrape in scrapes where scrape.error == nil {
            var best: Int?
            for sample in scrape.samples {
                if let rank = rankOfName[sample.name], rank < best ?? .max { best = rank }
            }
            if let best { return candidates[best] }
        }
        return nil
    }
}
