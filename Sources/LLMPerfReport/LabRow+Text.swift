import LLMPerfCore

/// A lab row's cells and sentences, as the terminal, Markdown, HTML and JSON outputs show them.
extension LabRow {
    // MARK: cells

    public var beforeText: String { beforeValue.map { LabFormat.value($0, unit: unit) } ?? "–" }
    public var afterText: String { afterValue.map { LabFormat.value($0, unit: unit) } ?? "–" }

    /// `−83.2% (5.95× lower)`, `+4.1%`, `–`.
    public var changeText: String {
        guard let relative = relativeChange, let beforeValue, let afterValue else { return "–" }
        var text = LabFormat.percent(relative)
        if let ratio = LabFormat.ratioText(before: beforeValue, after: afterValue) { text += " (\(ratio))" }
        return text
    }

    /// `yes (p<0.001)`, `yes, worse (p=0.0031)`, `no (p=0.41)`, `no (change under 2%)`, `n/a`.
    public var significanceText: String {
        switch verdict {
        case .better: return "yes (\(LabFormat.p(pValue)))"
        case .worse: return "yes, worse (\(LabFormat.p(pValue)))"
        case .noChange:
            if let pValue, pValue < alpha {
                return "no (change under \(DecimalText.trimmed(minimumRelativeChange * 100, fractionDigits: 2))%)"
            }
            return "no (\(LabFormat.p(pValue)))"
        case .notComparable: return "n/a"
        }
    }

    /// `5× met`, `1.8× missed`, `≤ 5 ms met`, or empty without an expectation.
    public var expectationText: String {
        guard let expectation else { return "" }
        let aim = expectation.text(measure: metric.measure)
        switch expectationMet {
        case true?: return "\(aim) met"
        case false?: return "\(aim) missed"
        case nil: return "\(aim) n/a"
        }
    }

    // MARK: sentences

    /// A plain sentence when the optimization did not help (no significant change, worse, or
    /// not measurable) or helped less than aimed for; nil when it helped as expected.
    public var sentence: String? {
        let from = "from \(beforeText) to \(afterText)"
        let change = relativeChange.map { LabFormat.percent($0) }
        switch verdict {
        case .notComparable:
            var missing: [String] = []
            if beforeValue == nil { missing.append("'\(before)'") }
            if afterValue == nil { missing.append("'\(after)'") }
            let which = missing.isEmpty ? "one of the runs" : missing.joined(separator: " and ")
            return "\(optimization) could not be judged: \(which) had no \(moves) values to compare "
                + "(too few successful requests)."
        case .noChange:
            var text = "\(optimization) did not help here: \(moves) went \(from)"
            if let change { text += " (\(change))" }
            if let pValue, pValue < alpha {
                text +=
                    ", a change under \(DecimalText.trimmed(minimumRelativeChange * 100, fractionDigits: 2))%, too small to count."
            } else {
                text += ", which is not a significant difference (\(LabFormat.p(pValue, spaced: true)))."
            }
            return text
        case .worse:
            var text = "\(optimization) did not help here: it made \(moves) worse, \(from)"
            if let change { text += " (\(change), \(LabFormat.p(pValue, spaced: true)))" }
            return text + "."
        case .better:
            guard expectationMet == false, let expectation else { return nil }
            switch expectation {
            case .factor(let factor):
                let measured = improvementFactor.map { LabFormat.factor($0) } ?? "–"
                let direction = metric.measure.higherIsBetter ? "higher" : "lower"
                return "\(optimization) helped, but less than aimed for: \(moves) \(measured) \(direction) "
                    + "(\(from)), short of the \(LabFormat.factor(factor)) expected."
            case .bound:
                return "\(optimization) helped, but less than aimed for: \(moves) was \(afterText) "
                    + "(from \(beforeText)), not \(expectation.text(measure: metric.measure))."
            }
        }
    }
}

extension LabExpectation {
    /// For tables: `5×`, `≤ 5 ms`, `≥ 100 tok/s`.
    public func text(measure: RunMeasure) -> String {
        switch self {
        case .factor(let factor): return LabFormat.factor(factor)
        case .bound(let bound):
            return (measure.higherIsBetter ? "≥ " : "≤ ") + measure.unit.formatLimit(bound)
        }
    }
}
