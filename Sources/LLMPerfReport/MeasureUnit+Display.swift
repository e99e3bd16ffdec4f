import Foundation
import LLMPerfCore

/// Measured values and limits for people, in a measure's unit.
extension MeasureUnit {
    /// A measured value: `612.3 ms`, `105.2 tok/s`, `0.80%`, `91.0%`.
    public func format(_ value: Double) -> String {
        switch self {
        case .milliseconds: return String(format: "%.1f ms", value)
        case .tokens: return String(format: "%.1f tokens", value)
        case .tokensPerSecond: return String(format: "%.1f tok/s", value)
        case .requestsPerSecond: return String(format: "%.2f req/s", value)
        case .fraction:
            let percent = value * 100
            return percent != 0 && abs(percent) < 1
                ? String(format: "%.2f%%", percent) : String(format: "%.1f%%", percent)
        }
    }

    /// A limit, without needless digits: `500 ms`, `1%`, `100 tok/s`.
    public func formatLimit(_ value: Double) -> String {
        switch self {
        case .milliseconds: return "\(DecimalText.trimmed(value)) ms"
        case .tokens: return "\(DecimalText.trimmed(value)) tokens"
        case .tokensPerSecond: return "\(DecimalText.trimmed(value)) tok/s"
        case .requestsPerSecond: return "\(DecimalText.trimmed(value)) req/s"
        case .fraction: return "\(DecimalText.trimmed(value * 100))%"
        }
    }
}
