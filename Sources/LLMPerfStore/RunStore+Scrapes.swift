import Foundation
import GRDB
import LLMPerfCore

/// The scrapes of a server's metrics endpoint during a run (`metric_scrapes`, `metric_samples`; schema v7).
extension RunStore {
    /// Stores a scrape and its samples in one transaction.
    public func recordScrape(runID: String, _ scrape: MetricsScrape) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO metric_scrapes (run_id, seq, at_ns, duration_ns, error) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    runID, scrape.sequence, Int64(clamping: scrape.atNanos), Int64(clamping: scrape.durationNanos),
                    scrape.error,
                ])
            guard !scrape.samples.isEmpty else { return }
            let statement = try db.cachedStatement(
                sql: "INSERT INTO metric_samples (run_id, seq, name, labels, value) VALUES (?, ?, ?, ?, ?)")
            for sample in scrape.samples {
                // SQLite has no NaN (it would store NULL, which the column refuses): a NaN sample, such as a
                // summary's quantile before any observation, is not stored.
                guard !sample.value.isNaN else { continue }
                try statement.execute(
                    arguments: [runID, scrape.sequence, sample.name, sample.labelText, sample.value])
            }
        }
    }

    /// A run's scrapes in order, with their samples.
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
            let samples = try Row.fetchCursor(
                db, sql: "SELECT seq, name, labels, value FROM metric_samples WHERE run_id = ? ORDER BY seq, rowid",
                arguments: [runID])
            while let row = try samples.next() {
                let seq: Int = row["seq"]
                guard let i = index[seq] else { continue }
                let labels = try MetricSample.labels(fromText: row["labels"])
                scrapes[i].samples.append(MetricSample(name: row["name"], labels: labels, value: row["value"]))
            }
            return scrapes
        }
    }
}
