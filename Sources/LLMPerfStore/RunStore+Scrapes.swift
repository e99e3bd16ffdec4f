import Foundation
import GRDB
import LLMPerfCore

/// The scrapes of a server's metrics endpoint during a run (`metric_scrapes`, `metric_samples`; schema v7).
///
/// A scrape stores only what changed since the run's last successful one: its new values, and a NULL value for
/// a series it no longer has. A busy server's exposition repeats most of its thousands of series unchanged from
/// one second to the next, and storing each every second cost the client 3% of a core (4,000 series a second);
/// reading back rebuilds every scrape whole.
extension RunStore {
    /// Stores a scrape, and what changed since `previous`, in one transaction.
    public func recordScrape(runID: String, _ scrape: MetricsScrape, previous: MetricsScrape?) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO metric_scrapes (run_id, seq, at_ns, duration_ns, error) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    runID, scrape.sequence, Int64(clamping: scrape.atNanos), Int64(clamping: scrape.durationNanos),
                    scrape.error,
                ])
            guard scrape.error == nil else { return }
            let statement = try db.cachedStatement(
                sql: "INSERT INTO metric_samples (run_id, seq, name, labels, value) VALUES (?, ?, ?, ?, ?)")
            var before: [SeriesKey: Double] = [:]
            for sample in previous?.samples ?? [] where !sample.value.isNaN {
                before[SeriesKey(sample)] = sample.value
            }
            var seen = Set<SeriesKey>()
            for sample in scrape.samples {
                // SQLite has no NaN (it would read back as NULL, which means "gone" here): a NaN sample, such as
                // a summary's quantile before any observation, is not stored.
                guard !sample.value.isNaN else { continue }
                let key = SeriesKey(sample)
                guard seen.insert(key).inserted else { continue }
                if let old = before[key], old == sample.value { continue }
                try statement.execute(arguments: [runID, scrape.sequence, key.name, key.labels, sample.value])
            }
            for key in before.keys where !seen.contains(key) {
                try statement.execute(arguments: [runID, scrape.sequence, key.name, key.labels, nil as Double?])
            }
        }
    }

    /// A run's scrapes in order, each with all its samples (rebuilt from what changed).
    public func scrapes(runID: String) throws -> [MetricsScrape] {
        try pool.read { db in
            var scrapes: [MetricsScrape] = []
            var index: [Int: Int] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT seq, at_ns, duration_ns, error FROM metric_scrapes WHERE run_id = ? ORDER BY seq",
                arguments: [runID])
            while let row = try rows.next() {
                let seq: Int = row["seq"]
                index[seq] = scrapes.count
                scrapes.append(
                    MetricsScrape(
                        sequence: seq, atNanos: UInt64(max(0, row["at_ns"] as Int64)),
                        durationNanos: UInt64(max(0, row["duration_ns"] as Int64)), samples: [], error: row["error"]))
            }
            var changes: [Int: [(key: SeriesKey, value: Double?)]] = [:]
            let samples = try Row.fetchCursor(
                db, sql: "SELECT seq, name, labels, value FROM metric_samples WHERE run_id = ? ORDER BY seq, rowid",
                arguments: [runID])
            while let row = try samples.next() {
                changes[row["seq"], default: []].append(
                    (SeriesKey(name: row["name"], labels: row["labels"]), row["value"]))
            }
            // The current values, in the order each series first appeared.
            var order: [SeriesKey] = []
            var known = Set<SeriesKey>()
            var current: [SeriesKey: MetricSample] = [:]
            for i in scrapes.indices where scrapes[i].error == nil {
                for (key, value) in changes[scrapes[i].sequence] ?? [] {
                    guard let value else {
                        current[key] = nil
                        continue
                    }
                    if known.insert(key).inserted { order.append(key) }
                    current[key] = MetricSample(
                        name: key.name, labels: try MetricSample.labels(fromText: key.labels), value: value)
                }
                scrapes[i].samples = order.compactMap { current[$0] }
            }
            return scrapes
        }
    }
}

/// A series: its name and its labels as `MetricSample.labelText` writes them.
private struct SeriesKey: Hashable {
    var name: String
    var labels: String

    init(name: String, labels: String) {
        self.name = name
        self.labels = labels
    }

    init(_ sample: MetricSample) {
        name = sample.name
        labels = sample.labelText
    }
}
