import Foundation

/// Reads a server's metrics endpoint for the scraper (`target.metrics`): libcurl in the executable,
/// a fake in tests. Called from the scraper's own thread; may block up to the timeout.
public protocol MetricsSource: Sendable {
    /// GETs `url`: the body of a 2xx answer, or why there was none (unreachable, timed out, a status).
    func fetch(url: String, timeoutMilliseconds: Int) -> Result<String, MetricsFetchError>
}

/// Why a scrape got no metrics; stored with the scrape, shown in the run's summary.
public struct MetricsFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
