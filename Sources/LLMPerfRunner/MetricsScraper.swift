import Foundation
import LLMPerfCore

/// Scrapes a server's metrics endpoint on its own thread while a run goes (`target.metrics`): one
/// scrape before the first request is sent (the baseline every difference is taken from), one per
/// interval, and one after the last request ended. Each scrape is parsed and handed to `record` with
/// its time on the run's clock (and the last successful one before it); a scrape that fails (unreachable, an HTTP error, text that does not
/// parse) is recorded with its reason and the run goes on.
final class MetricsScraper: @unchecked Sendable {
    private let url: String
    private let interval: Duration
    private let timeoutMilliseconds: Int
    private let source: any MetricsSource
    private let clock: any RunClock
    private let originNanos: UInt64
    private let record: @Sendable (_ scrape: MetricsScrape, _ previous: MetricsScrape?) -> Void
    /// The last scrape that worked, handed to `record` with the next one (a store keeps what changed).
    private var lastSuccessful: MetricsScrape?
    private let condition = NSCondition()
    private var stopping = false
    private var running = false
    private var sequence = 0
    private var failures = 0
    private var thread: Thread?

    init(
        url: String, interval: Duration, timeoutMilliseconds: Int, source: any MetricsSource, clock: any RunClock,
        originNanos: UInt64, record: @escaping @Sendable (_ scrape: MetricsScrape, _ previous: MetricsScrape?) -> Void
    ) {
        self.url = url
        self.interval = interval
        self.timeoutMilliseconds = timeoutMilliseconds
        self.source = source
        self.clock = clock
        self.originNanos = originNanos
        self.record = record
    }

    /// Takes the baseline scrape now, then starts the thread.
    func start() {
        scrapeOnce()
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in loop() }
        thread.name = "llmperf-scraper"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread (waiting for a scrape in progress), then takes the final scrape. Returns how many
    /// scrapes were taken and how many failed.
    @discardableResult
    func stop() -> (scrapes: Int, failures: Int) {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
        scrapeOnce()
        return (sequence, failures)
    }

    private func loop() {
        let step =
            UInt64(interval.components.seconds) * 1_000_000_000
            + UInt64(interval.components.attoseconds / 1_000_000_000)
        var next = clock.nowNanos() &+ step
        while true {
            condition.lock()
            while !stopping {
                let now = clock.nowNanos()
                if now >= next { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(next - now) / 1e9))
            }
            if stopping {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            scrapeOnce()
            // Fixed steps from the start: a slow scrape delays the next one, never shifts the grid.
            let now = clock.nowNanos()
            repeat { next &+= step } while next <= now
        }
    }

    private func scrapeOnce() {
        let started = clock.nowNanos()
        let fetched = source.fetch(url: url, timeoutMilliseconds: timeoutMilliseconds)
        let ended = clock.nowNanos()
        var scrape = MetricsScrape(
            sequence: sequence, atNanos: started &- min(originNanos, started), durationNanos: ended &- started,
            samples: [])
        switch fetched {
        case .success(let text):
            do {
                scrape.samples = try PrometheusExposition.parse(text).flatMap(\.samples)
            } catch {
                scrape.error = "the answer is not Prometheus text: \(error)"
            }
        case .failure(let error):
            scrape.error = error.description
        }
        sequence += 1
        record(scrape, lastSuccessful)
        if scrape.error != nil { failures += 1 } else { lastSuccessful = scrape }
    }
}
