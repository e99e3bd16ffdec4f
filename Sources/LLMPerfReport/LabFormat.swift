import Foundation
import LLMPerfCore

/// Number formatting of the lab table, shared by the terminal, Markdown, HTML and JSON outputs.
public enum LabFormat {
    /// `5.95×`, `12.3×`, `240×`.
    public static func factor(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.0f×", value) }
        if magnitude >= 10 { return String(format: "%.1f×", value) }
        return DecimalText.trimmed(value, fractionDigits: 2) + "×"
    }

    /// `−83.2%`, `+4.1%`, `0.0%` (a true minus sign for decreases).
    public static func percent(_ fraction: Double) -> String {
        let text = String(format: "%.1f", abs(fraction) * 100)
        if text == "0.0" { return "0.0%" }
        return (fraction < 0 ? "−" : "+") + text + "%"
    }

    /// `5.95× lower` / `2.6× higher` when the values differ by at least 10%; nil otherwise.
    public static func ratioText(before: Double, after: Double) -> String? {
        guard before > 0, after > 0 else { return nil }
        if after < before, before / after >= 1.1 { return factor(before / after) + " lower" }
        if after > before, after / before >= 1.1 { return factor(after / before) + " higher" }
        return nil
    }

    /// A measured value with its unit: `612.3 ms`, `4.21 ms`, `0.84 ms`, `105.2 tok/s`.
    public static func value(_ value: Double, unit: MeasureUnit) -> String {
        switch unit {
        case .milliseconds:
            let magnitude = abs(value)
            if magnitude >= 1000 { return String(format: "%.0f ms", value) }
            if magnitude >= 10 { return String(format: "%.1f ms", value) }
            return String(format: "%.2f ms", value)
        default: return unit.format(value)
        }
    }

    /// `p<0.001`, `p=0.0312`, `p=0.41`; with `spaced`, `p < 0.001`, `p = 0.41`; `p n/a`.
    public static func p(_ value: Double?, spaced: Bool = false) -> String {
        guard let value else { return "p n/a" }
        let operatorText = spaced ? " = " : "="
        if value < 0.001 { return spaced ? "p < 0.001" : "p<0.001" }
        return "p" + operatorText + String(format: value < 0.1 ? "%.4f" : "%.2f", value)
    }
}
