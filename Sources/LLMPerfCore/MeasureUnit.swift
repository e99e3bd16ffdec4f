import Foundation

/// The unit of a measure's values. How they are read in rules is `GateRule`'s (GateRule+Limit.swift); how
/// they are shown is LLMPerfReport's (`MeasureUnit+Display.swift`).
public enum MeasureUnit: String, Sendable, Equatable, Codable {
    case milliseconds = "ms"
    case tokens
    case tokensPerSecond = "tok/s"
    case requestsPerSecond = "req/s"
    /// A share in [0, 1], shown as a percentage.
    case fraction
}
