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
            func insert(_ name: String, _ labels: String, _ value: Double?) throws {
                try statement.execute(arguments: [runID, scrape.sequence, name, labels, value])
            }
            let current = scrape.samples
            let earlier = previous?.samples ?? []
            // An exposition lists its series in the same order scrape after scrape: then each is compared with its
            // place in the previous one, with no hashing. (SQLite has no NaN — it would read back as NULL, which
            // means "gone" here — so a NaN sample, such as a summary's quantile before any observation, is not
            // stored: it counts as absent.)
            if earlier.count == current.count
                && zip(earlier, current).allSatisfy({ $0.name == $1.name && $0.labels == $1.labels })
            {
                for (old, new) in zip(earlier, current) {
                    if new.value.isNaN {
                        if !old.value.isNaN { try insert(new.name, new.labelText, nil) }
                    } else if old.value.isNaN || old.value != new.value {
                        try insert(new.name, new.labelText, new.value)
                    }
                }
                return
            }
            var before: [SeriesKey: Double] = [:]
            before.reserveCapacity(earlier.count)
            for sample in earlier where !sample.value.isNaN { before[SeriesKey(sample)] = sample.value }
            var seen = Set<SeriesKey>(minimumCapacity: current.count)
            for sample in current where !sample.value.isNaN {
                let key = SeriesKey(sample)
                guard seen.insert(key).inserted else { continue }
                if let old = before[key], old == sample.value { continue }
                try insert(key.name, key.labels, sample.value)
            }
            for key in before.keys where !seen.contains(key) { try insert(key.name, key.labels, nil) }
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
