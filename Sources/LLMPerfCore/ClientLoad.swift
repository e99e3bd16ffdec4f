import Foundation

/// How hard the client itself worked while it drove a run, so that a slow run can be told from a slow
/// client: the process's CPU time over the run's wall time, and how late a probe thread that sleeps a
/// fixed 5 ms woke (schedule lag: a starved client wakes late for everything, its requests and its
/// reads included). An open-loop run also knows how late each request went out (its `queue` metric).
public struct ClientLoad: Sendable, Equatable, Codable {
    /// CPU (user + system) this process used while the requests ran, in seconds.
    public var cpuSeconds: Double
    /// Wall time of the same span, in seconds.
    public var wallSeconds: Double
    /// The probe's wake-up lateness, p50 and p99, in ms; nil when it never woke (a run shorter than 5 ms).
    public var lagP50Milliseconds: Double?
    public var lagP99Milliseconds: Double?

    /// Above this share of one core the client is the bottleneck (it may not send or read on time).
    public static let cpuLimit = 0.85
    /// Above this lag p99 (probe, or an open loop's send lag) the client is the bottleneck.
    public static let lagLimitMilliseconds = 5.0

    public init(
        cpuSeconds: Double, wallSeconds: Double, lagP50Milliseconds: Double?, lagP99Milliseconds: Double?
    ) {
        self.cpuSeconds = cpuSeconds
        self.wallSeconds = wallSeconds
        self.lagP50Milliseconds = lagP50Milliseconds
        self.lagP99Milliseconds = lagP99Milliseconds
    }

    /// CPU seconds per wall second: 1 is one core busy all the time.
    public var cpuShare: Double { wallSeconds > 0 ? cpuSeconds / wallSeconds : 0 }

    /// Why the client was the bottleneck, one phrase a reason (empty: it was not). `sendLagP99` is an
    /// open loop's p99 lateness of sending (nil in a closed loop, or where a cap on requests in flight
    /// makes requests wait for the server rather than for the client).
    public func bottleneckReasons(sendLagP99 sendLag: Double? = nil) -> [String] {
        var reasons: [String] = []
        if cpuShare > Self.cpuLimit {
            reasons.append("client CPU \(Int((cpuShare * 100).rounded()))% of a core")
        }
        if let lag = lagP99Milliseconds, lag > Self.lagLimitMilliseconds {
            reasons.append("client schedule lag p99 \(DecimalText.trimmed(lag, fractionDigits: 1)) ms")
        }
        if let sendLag, sendLag > Self.lagLimitMilliseconds {
            reasons.append("requests sent late, p99 \(DecimalText.trimmed(sendLag, fractionDigits: 1)) ms")
        }
        return reasons
    }

    enum CodingKeys: String, CodingKey {
        case cpuSeconds = "cpu_s"
        case wallSeconds = "wall_s"
        case lagP50Milliseconds = "lag_p50_ms"
        case lagP99Milliseconds = "lag_p99_ms"
    }
}
