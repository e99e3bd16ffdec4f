import Foundation
import GRDB
import LLMPerfCore
import Testing

@testable import LLMPerfStore

/// Scrapes round-trip whole through a real file although only what changed is stored.
@Suite struct ScrapeStoreTests {
    static func sample(_ name: String, _ labels: [MetricLabel] = [], _ value: Double) -> MetricSample {
        MetricSample(name: name, labels: labels, value: value)
    }

    @Test func scrapesComeBackWholeAndOnlyChangesAreStored() throws {
        let path = RunStoreTests.temporaryDatabase()
        let store = try RunStore(path: path)
        let id = try store.newRunID()
        try store.insertRun(
            RunInfo(
                id: id, name: "s", variant: nil, batchID: "b", labels: [], scenarioYAML: "", scenarioHash: "h",
                scenarioPath: "s.yml", targetURL: "http://x", api: "openai-chat", model: "m", loadDescription: "c=1",
                maxTokens: 8, promptSetHash: "p", host: "h", gitCommit: nil, startedAt: Date()))
        let running = [MetricLabel("model", "a \"quoted\" one")]
        let first = MetricsScrape(
            sequence: 0, atNanos: 0, durationNanos: 5,
            samples: [
                Self.sample("running", running, 2), Self.sample("tokens_total", [], 100),
                Self.sample("summary", [MetricLabel("quantile", "0.5")], .nan), Self.sample("gone_later", [], 7),
            ])
        let failed = MetricsScrape(sequence: 1, atNanos: 10, durationNanos: 5, samples: [], error: "HTTP 503")
        // The running gauge is unchanged, the counter grew, one series went and one came.
        let third = MetricsScrape(
            sequence: 2, atNanos: 20, durationNanos: 5,
            samples: [
                Self.sample("running", running, 2), Self.sample("tokens_total", [], 160),
                Self.sample("new_one", [MetricLabel("le", "+Inf")], 1),
            ])
        // It came back.
        let fourth = MetricsScrape(
            sequence: 3, atNanos: 30, durationNanos: 5,
            samples: [
                Self.sample("running", running, 3), Self.sample("tokens_total", [], 160),
                Self.sample("new_one", [MetricLabel("le", "+Inf")], 1), Self.sample("gone_later", [], 7),
            ])
        // The same series in the same order (compared place by place): the gauge moved, one went NaN (absent).
        var fifth = fourth
        fifth.sequence = 4
        fifth.atNanos = 40
        fifth.samples[0].value = 4
        fifth.samples[3].value = .nan
        try store.recordScrape(runID: id, first, previous: nil)
        try store.recordScrape(runID: id, failed, previous: first)
        try store.recordScrape(runID: id, third, previous: first)
        try store.recordScrape(runID: id, fourth, previous: third)
        try store.recordScrape(runID: id, fifth, previous: fourth)

        let back = try RunStore(path: path).scrapes(runID: id)
        var expected = [first, failed, third, fourth, fifth]
        // A NaN is not stored (SQLite has none).
        for i in expected.indices { expected[i].samples.removeAll { $0.value.isNaN } }
        #expect(back.map(\.sequence) == [0, 1, 2, 3, 4] && back.map(\.error) == [nil, "HTTP 503", nil, nil, nil])
        for (got, want) in zip(back, expected) {
            #expect(Set(got.samples) == Set(want.samples), "scrape \(want.sequence): \(got.samples)")
            #expect(got.samples.count == want.samples.count)
        }
        // Rows: 3 for the first, none for the failed, 3 for the third (the counter, the new one, the gone one's
        // NULL), 2 for the fourth (the gauge, the one back), 2 for the fifth (the gauge, the NaN one's NULL).
        let rows = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(db, sql: "SELECT count(*) FROM metric_samples GROUP BY seq ORDER BY seq")
        }
        #expect(rows == [3, 3, 2, 2])
    }
}
