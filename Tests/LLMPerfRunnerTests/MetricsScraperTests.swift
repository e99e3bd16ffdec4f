import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfRunner

/// Answers the scraper from a script, one answer per call (the last repeats), counting the calls.
private final class ScriptedMetricsSource: MetricsSource, @unchecked Sendable {
    private let lock = NSLock()
    private let answers: [Result<String, MetricsFetchError>]
    private(set) var calls = 0

    init(_ answers: [Result<String, MetricsFetchError>]) { self.answers = answers }

    func fetch(url: String, timeoutMilliseconds: Int) -> Result<String, MetricsFetchError> {
        lock.withLock {
            defer { calls += 1 }
            return answers[min(calls, answers.count - 1)]
        }
    }
}

private final class ScrapeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [MetricsScrape] = []
    private var before: [Int?] = []
    func add(_ scrape: MetricsScrape, previous: MetricsScrape?) {
        lock.withLock {
            stored.append(scrape)
            before.append(previous?.sequence)
        }
    }
    var scrapes: [MetricsScrape] { lock.withLock { stored } }
    /// The sequence of the previous scrape each was handed with.
    var previous: [Int?] { lock.withLock { before } }
}

@Suite struct MetricsScraperTests {
    static let text = """
        # TYPE llmperf_requests_running gauge
        llmperf_requests_running 3
        """

    /// A baseline scrape at start, scrapes on the interval, a final one at stop; a refused fetch and text
    /// that is not Prometheus are recorded with their reasons, and the scraping goes on.
    @Test func scrapesOnTheIntervalAndRecordsFailuresWithoutStopping() async throws {
        let source = ScriptedMetricsSource([
            .success(Self.text), .failure(MetricsFetchError("connection refused")), .success("this is { not metrics"),
            .success(Self.text),
        ])
        let log = ScrapeLog()
        let clock = MonotonicRunClock()
        let origin = clock.nowNanos()
        let scraper = MetricsScraper(
            url: "http://127.0.0.1:1/metrics", interval: .milliseconds(100), timeoutMilliseconds: 100, source: source,
            clock: clock, originNanos: origin, record: { log.add($0, previous: $1) })
        scraper.start()
        // The baseline is taken before start returns.
        #expect(log.scrapes.count == 1)
        // Wait for the third interval's scrape by what was recorded, not by the clock.
        for _ in 0..<500 where log.scrapes.count < 4 { try await Task.sleep(for: .milliseconds(10)) }
        let counts = scraper.stop()
        let scrapes = log.scrapes
        #expect(scrapes.count == counts.scrapes && scrapes.count >= 5)
        #expect(scrapes.map(\.sequence) == Array(0..<scrapes.count))
        #expect(
            scrapes[0].error == nil && scrapes[0].samples == [MetricSample(name: "llmperf_requests_running", value: 3)])
        #expect(scrapes[1].error == "connection refused" && scrapes[1].samples.isEmpty)
        #expect(scrapes[2].error?.hasPrefix("the answer is not Prometheus text") == true, "\(scrapes[2])")
        #expect(scrapes.dropFirst(3).allSatisfy { $0.error == nil })
        #expect(counts.failures == 2)
        // Each is handed with the last one that worked before it: the failed two are skipped.
        #expect(log.previous.prefix(4).map { $0 } == [nil, 0, 0, 0])
        #expect(log.previous.dropFirst(4).enumerated().allSatisfy { $1 == $0 + 3 })
        // On the run's clock, in order; the k-th scrape of the interval no earlier than k intervals after the baseline.
        let times = scrapes.map(\.atNanos)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        for k in 1...3 { #expect(times[k] - times[0] >= UInt64(k) * 100_000_000, "\(times)") }
        // Nothing after stop.
        let calls = source.calls
        try await Task.sleep(for: .milliseconds(250))
        #expect(source.calls == calls)
    }
}
