import Foundation

/// The unit of a measure's values, and how they are written and read.
public enum MeasureUnit: String, Sendable, Equatable, Codable {
    case milliseconds = "ms"
    case tokens
    case tokensPerSecond = "tok/s"
    case requestsPerSecond = "req/s"
    /// A share in [0, 1], shown as a percentage.
    case fraction

    /// A measured value for people: `612.3 ms`, `105.2 tok/s`, `0.80%`, `91.0%`.
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

    /// A limit for people, without needless digits: `500 ms`, `1%`, `100 tok/s`.
    public func formatLimit(_ value: Double) -> String {
        switch self {
        case .milliseconds: return "\(MeasureUnit.trimmed(value)) ms"
        case .tokens: return "\(MeasureUnit.trimmed(value)) tokens"
        case .tokensPerSecond: return "\(MeasureUnit.trimmed(value)) tok/s"
        case .requestsPerSecond: return "\(MeasureUnit.trimmed(value)) req/s"
        case .fraction: return "\(MeasureUnit.trimmed(value * 100))%"
        }
    }

    /// A limit as rule text reads it back: `500ms`, `1%`, `100`.
    func literal(_ value: Double) -> String {
        switch self {
        case .milliseconds: return "\(MeasureUnit.trimmed(value))ms"
        case .fraction: return "\(MeasureUnit.trimmed(value * 100))%"
        case .tokens, .tokensPerSecond, .requestsPerSecond: return MeasureUnit.trimmed(value)
        }
    }

    var exampleLimit: String {
        switch self {
        case .milliseconds: return "500ms"
        case .fraction: return "1%"
        case .tokens, .tokensPerSecond, .requestsPerSecond: return "100"
        }
    }

    /// Reads a rule's limit in this unit (see `GateRule`).
    func parseLimit(_ text: String, key: String, symbol: String, rule: String) throws(GateRuleError) -> Double {
        var end = text.startIndex
        let numeric: Set<Character> = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "+", "-"]
        while end < text.endIndex, numeric.contains(text[end]) { end = text.index(after: end) }
        let suffix = text[end...].trimmingCharacters(in: .whitespaces).lowercased()
        guard let number = Double(text[..<end]), number.isFinite else {
            throw GateRuleError(
                rule: rule, reason: "expected a number after '\(symbol)', e.g. \(exampleLimit), found '\(text)'")
        }
        switch self {
        case .milliseconds:
            switch suffix {
            case "ms": return number
            case "s": return number * 1000
            case "us", "µs": return number / 1000
            case "":
                throw GateRuleError(
                    rule: rule,
                    reason: "'\(key)' is a time: give the unit, e.g. \(MeasureUnit.trimmed(number))ms or "
                        + "\(MeasureUnit.trimmed(number / 1000))s")
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
                self == .tokens ? ["", "tokens", "tok"] : ["", "/s", self == .tokensPerSecond ? "tok/s" : "req/s"]
            guard allowed.contains(suffix) else {
                let what = self == .tokens ? "a token count" : "a rate per second"
                throw GateRuleError(
                    rule: rule,
                    reason: "'\(key)' is \(what): write a plain number, e.g. \(MeasureUnit.trimmed(number)); "
                        + "unit '\(suffix)' does not apply")
            }
            return number
        }
    }

    /// `value` with at most `digits` decimals and no trailing zeros.
    static func trimmed(_ value: Double, digits: Int = 6) -> String {
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }
}
