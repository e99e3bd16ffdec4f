import Foundation

/// A rule's limit as text: read in the measure's unit, and written back the way rules read it.
extension GateRule {
    /// A limit as rule text reads it back: `500ms`, `1%`, `100`.
    static func limitLiteral(_ value: Double, unit: MeasureUnit) -> String {
        switch unit {
        case .milliseconds: return "\(DecimalText.trimmed(value))ms"
        case .fraction: return "\(DecimalText.trimmed(value * 100))%"
        case .tokens, .tokensPerSecond, .requestsPerSecond: return DecimalText.trimmed(value)
        }
    }

    /// A limit to show in an error message for a rule in `unit`.
    static func exampleLimit(_ unit: MeasureUnit) -> String {
        switch unit {
        case .milliseconds: return "500ms"
        case .fraction: return "1%"
        case .tokens, .tokensPerSecond, .requestsPerSecond: return "100"
        }
    }

    /// Reads a rule's limit in `unit`: milliseconds from `ms`, `s` or `us` (a bare number is an
    /// error), a fraction from a percentage, a plain number (`/s`, `tok/s`, `req/s` or `tokens`
    /// allowed where they fit) for rates and token counts.
    static func parseLimit(
        _ text: String, unit: MeasureUnit, key: String, symbol: String, rule: String
    ) throws(GateRuleError) -> Double {
        var end = text.startIndex
        let numeric: Set<Character> = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "+", "-"]
        while end < text.endIndex, numeric.contains(text[end]) { end = text.index(after: end) }
        let suffix = text[end...].trimmingCharacters(in: .whitespaces).lowercased()
        guard let number = Double(text[..<end]), number.isFinite else {
            throw GateRuleError(
                rule: rule,
                reason: "expected a number after '\(symbol)', e.g. \(exampleLimit(unit)), found '\(text)'")
        }
        switch unit {
        case .milliseconds:
            switch suffix {
            case "ms": return number
            case "s": return number * 1000
            case "us", "µs": return number / 1000
            case "":
                throw GateRuleError(
                    rule: rule,
                    reason: "'\(key)' is a time: give the unit, e.g. \(DecimalText.trimmed(number))ms or "
                        + "\(DecimalText.trimmed(number / 1000))s")
            default:
                throw GateRuleError(rule: rule, reason: "'\(key)' is a time: unit '\(suffix)' is not ms, s or us")
            }
        case .fraction:
            guard suffix == "%" else {
                throw GateRuleError(
                    rule: rule, reason: "'\(key)' is a share: write it as a percentage, e.g. \(key) < 1%")
            }
            return number / 100
        case .tokensPerSecond, .requestsPerSecond, .tokens:
            let allowed: Set<String> =
                unit == .tokens ? ["", "tokens", "tok"] : ["", "/s", unit == .tokensPerSecond ? "tok/s" : "req/s"]
            guard allowed.contains(suffix) else {
                let what = unit == .tokens ? "a token count" : "a rate per second"
                throw GateRuleError(
                    rule: rule,
                    reason: "'\(key)' is \(what): write a plain number, e.g. \(DecimalText.trimmed(number)); "
                        + "unit '\(suffix)' does not apply")
            }
            return number
        }
    }
}
