import Foundation

/// How late a replay's requests went out against the trace's times (scaled by its speed): each
/// request's `queue` metric, started − scheduled, over the measured requests. A replay whose p99 is
/// above `clientBoundMilliseconds` is client-bound: the client could not keep the trace's pace, so the
/// server saw a different load than the trace's, and the run measures the client as much as the server.
public struct ScheduleLag: Sendable, Equatable, Encodable {
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var maxMilliseconds: Double
    /// Requests the quantiles are over.
    public var requests: Int

    /// Above this p99 a replay is flagged client-bound (the same limit as `ClientLoad`'s).
    public static let clientBoundMilliseconds = ClientLoad.lagLimitMilliseconds

    public init(p50Milliseconds: Double, p99Milliseconds: Double, maxMilliseconds: Double, requests: Int) {
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
        self.maxMilliseconds = maxMilliseconds
        self.requests = requests
    }

    /// The lag of a replay's summary (nil for any other load, or when no request was scheduled).
    public static func of(summary: RunSummary, loadDescription: String) -> ScheduleLag? {
        guard LoadSpec.isReplay(loadDescription: loadDescription), let queue = summary.metrics[.queue],
            queue.count > 0
        else { return nil }
        return ScheduleLag(
            p50Milliseconds: queue.p50, p99Milliseconds: queue.p99, maxMilliseconds: queue.max, requests: queue.count)
    }

    public var isClientBound: Bool { p99Milliseconds > Self.clientBoundMilliseconds }

    enum CodingKeys: String, CodingKey {
        case p50Milliseconds = "p50_ms"
        case p99Milliseconds = "p99_ms"
        case maxMilliseconds = "max_ms"
        case requests
        case clientBound = "client_bound"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(p50Milliseconds, forKey: .p50Milliseconds)
        try container.encode(p99Milliseconds, forKey: .p99Milliseconds)
        try container.encode(maxMilliseconds, forKey: .maxMilliseconds)
        try container.encode(requests, forKey: .requests)
        try container.encode(isClientBound, forKey: .clientBound)
    }
}
