import Foundation
import LLMPerfCore

/// Number formatting shared by every renderer, so a value reads the same everywhere.
public enum Formatting {
    /// Milliseconds with precision that suits the size: 0.042, 3.21, 48.7, 1234.
    public static func milliseconds(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        if magnitude < 0.9995 { return String(format: "%.3f", value) }
        if magnitude < 9.995 { return String(format: "%.2f", value) }
        if magnitude < 999.95 { return String(format: "%.1f", value) }
        return String(format: "%.0f", value)
    }

    /// A change in milliseconds with its sign, a true minus for decreases: `−38.2`, `+0.012`, and `0` for
    /// a change that shows as zero.
    public static func signedMilliseconds(_ value: Double) -> String {
        let text = milliseconds(abs(value))
        if text.allSatisfy({ $0 == "0" || $0 == "." }) { return "0" }
        return (value < 0 ? "−" : "+") + text
    }

    public static func number(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 100 || value == value.rounded() { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    public static func value(_ value: Double, unit: Metric.Unit) -> String {
        unit == .milliseconds ? milliseconds(value) : number(value)
    }

    public static func percent(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction * 100)
    }

    public static func signedPercent(_ fraction: Double) -> String {
        String(format: "%+.1f%%", fraction * 100)
    }
}
