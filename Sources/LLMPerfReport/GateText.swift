import Foundation
import LLMPerfCore

/// A gate result for people: the measured value, the threshold and the reason, as the terminal
/// table, Markdown, HTML, JUnit and JSON outputs show them.
extension GateEvaluation.Result {
    /// `612.3 ms`, `0.80%`, or `n/a`.
    public var measuredText: String { measured.map(subject.measure.unit.format) ?? "n/a" }

    /// `< 500 ms`, or `+10% vs baseline` for a regression rule.
    public var threshold: String {
        switch kind {
        case .threshold(let op, let limit): return "\(op.rawValue) \(subject.measure.unit.formatLimit(limit))"
        case .regression(let maxPercent): return "\(Self.regressionLimit(maxPercent, subject: subject)) vs baseline"
        }
    }

    /// `p95 TTFT 612.3 ms > 500 ms`, `p95 TTFT +14.2% vs baseline (p = 0.003) exceeds +10%`.
    public var reason: String {
        let label = subject.label
        switch finding {
        case .nothingToMeasure(nil, let why): return "\(label): nothing to measure (\(why))"
        case .nothingToMeasure(let side?, let why):
            return "\(label): nothing to measure in \(side == .run ? "the run" : "the baseline") (\(why))"
        case .needsBaseline: return "\(label): a regression rule needs a baseline run (--baseline)"
        case .compared:
            guard case .threshold(_, let limit) = kind, let measured else { return "" }
            let unit = subject.measure.unit
            let relation = measured < limit ? "<" : measured > limit ? ">" : "="
            var text = "\(label) \(unit.format(measured)) \(relation) \(unit.formatLimit(limit))"
            if !passed && relation == "=" { text += " (needs \(threshold))" }
            return text
        case .regression(let change, let exceeds, let alpha):
            guard case .regression(let maxPercent) = kind else { return "" }
            let limitText = Self.regressionLimit(maxPercent, subject: subject)
            let changeText = "\(label) \(Self.percent(change)) vs baseline"
            let pText = pValue.map(Self.pText) ?? "no test: too few samples"
            let significant = (pValue ?? 1) < alpha
            if exceeds && significant { return "\(changeText) (\(pText)) exceeds \(limitText)" }
            if exceeds {
                let why = pValue.map { "\(Self.pText($0)) ≥ \(DecimalText.trimmed(alpha))" } ?? pText
                return "\(changeText) exceeds \(limitText) but is not significant (\(why))"
            }
            return "\(changeText) (\(pText)) is within \(limitText)"
        }
    }

    /// `+10%` for a measure that gets worse going up, `-10%` for one that gets worse going down.
    static func regressionLimit(_ maxPercent: Double, subject: GateSubject) -> String {
        "\(subject.measure.higherIsBetter ? "-" : "+")\(DecimalText.trimmed(maxPercent))%"
    }

    /// `+14.2%`, `-3.0%`, `+inf%`.
    static func percent(_ fraction: Double) -> String {
        if fraction.isInfinite { return fraction > 0 ? "+inf%" : "-inf%" }
        return String(format: "%+.1f%%", fraction * 100)
    }

    /// `p = 0.003`, `p < 0.001`.
    static func pText(_ p: Double) -> String {
        p < 0.001 ? "p < 0.001" : String(format: "p = %.3f", p)
    }
}

/// The gate as the JSON report writes it: `{alpha, passed, results: [{rule, key, passed,
/// measured?, measuredText, threshold, baselineValue?, relativeChange?, pValue?, reason}]}`.
public struct GateDocument: Encodable, Sendable {
    struct Result: Encodable {
        var rule: String
        var key: String
        var passed: Bool
        var measured: Double?
        var measuredText: String
        var threshold: String
        var baselineValue: Double?
        var relativeChange: Double?
        var pValue: Double?
        var reason: String
    }

    public var alpha: Double
    public var passed: Bool
    var results: [Result]

    public init(_ gate: GateEvaluation) {
        alpha = gate.alpha
        passed = gate.passed
        results = gate.results.map {
            Result(
                rule: $0.rule, key: $0.key, passed: $0.passed, measured: $0.measured, measuredText: $0.measuredText,
                threshold: $0.threshold, baselineValue: $0.baselineValue, relativeChange: $0.relativeChange,
                pValue: $0.pValue, reason: $0.reason)
        }
    }
}
