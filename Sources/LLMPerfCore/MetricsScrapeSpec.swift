import Foundation

/// `target.metrics`: scrape the server's Prometheus endpoint during the run (`llmperf run --scrape URL`
/// does the same from the command line). The samples are stored with the run, on its clock, and the
/// summary reconciles the server's view with the client's (`MetricsReconciliation`).
public struct MetricsScrapeSpec: Sendable, Equatable {
    /// The endpoint (`http://host:port/metrics`); nil for a local backend: its own `/metrics`.
    public var url: String?
    /// As `url` may be shown and stored (`${VAR}` unexpanded).
    public var shownURL: String?
    public var interval: Duration

    public static let defaultInterval = Duration.seconds(1)
    /// Scraping faster would measure the scrape more than the server.
    public static let shortestInterval = Duration.milliseconds(100)

    public init(url: String? = nil, interval: Duration = MetricsScrapeSpec.defaultInterval) {
        self.url = url
        self.shownURL = url
        self.interval = interval
    }

    /// A timeout for one scrape: the interval, at most 5 s (a hung server must not hold the scraper).
    public var timeoutMilliseconds: Int {
        let (seconds, attoseconds) = interval.components
        let ms = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        return max(100, min(5_000, ms))
    }
}
