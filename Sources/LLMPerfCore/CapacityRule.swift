import Foundation

/// A gate rule on a sweep's capacity: `capacity.requests_per_s >= 12`, `capacity.concurrency >= 16`. It
/// fails when the sweep found no capacity, when the key does not apply to it (`capacity.rate` of a sweep
/// over concurrency), and when the client was the bottleneck (the capacity is then the client's).
public struct CapacityRule: Sendable, Equatable {
    public var text: String
    /// One of `SweepResult.capacityKeys`.
    public var key: String
    public var op: GateOperator
    public var limit: Double

    public struct Result: Sendable, Equatable {
        public var rule: String
        public var passed: Bool
        public var measured: Double?
        /// Why it failed without a comparison (nil when it was compared).
        public var reason: String?
    }

    public static func isCapacityRule(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespaces).hasPrefix("capacity.")
    }

    public static func parse(_ text: String) throws(GateRuleError) -> CapacityRule {
        let rule = text.trimmingCharacters(in: .whitespaces)
        let keys = SweepResult.capacityKeys.map { "capacity.\($0)" }.joined(separator: ", ")
        guard rule.hasPrefix("capacity.") else {
            throw GateRuleError(rule: rule, reason: "a sweep is gated on its capacity: one of \(keys)")
        }
        let symbols: Set<Character> = ["<", ">", "=", "!", ":"]
        guard let start = rule.firstIndex(where: { symbols.contains($0) }) else {
            throw GateRuleError(rule: rule, reason: "expected an operator, e.g. 'capacity.requests_per_s >= 12'")
        }
        var end = start
        while end < rule.endIndex, symbols.contains(rule[end]) { end = rule.index(after: end) }
        let key = rule[rule.index(rule.startIndex, offsetBy: "capacity.".count)..<start]
            .trimmingCharacters(in: .whitespaces)
        guard SweepResult.capacityKeys.contains(key) else {
            var reason = "unknown capacity value '\(key)'"
            if let suggestion = ScenarioSuggestion.closest(to: key, in: SweepResult.capacityKeys) {
                reason += "; did you mean 'capacity.\(suggestion)'?"
            }
            throw GateRuleError(rule: rule, reason: reason + " (known: \(keys))")
        }
        guard let op = GateOperator(rawValue: String(rule[start..<end])) else {
            throw GateRuleError(
                rule: rule, reason: "unsupported operator '\(rule[start..<end])'; use <, <=, > or >=")
        }
        var limitText = rule[end...].trimmingCharacters(in: .whitespaces)
        for unit in ["req/s", "tok/s", "/s"] where limitText.hasSuffix(unit) {
            limitText = String(limitText.dropLast(unit.count)).trimmingCharacters(in: .whitespaces)
            break
        }
        guard let limit = Double(limitText), limit.isFinite else {
            throw GateRuleError(rule: rule, reason: "expected a number after '\(rule[start..<end])', e.g. 12")
        }
        return CapacityRule(text: rule, key: key, op: op, limit: limit)
    }

    public func evaluate(_ sweep: SweepResult) -> Result {
        var result = Result(rule: text, passed: false, measured: sweep.capacityValue(key), reason: nil)
        if sweep.capacity == nil {
            result.reason = sweep.points.isEmpty ? "the sweep has no completed point" : "no load met the slo"
        } else if result.measured == nil {
            result.reason = "capacity.\(key) does not apply to a sweep over \(sweep.record.over.rawValue)"
        } else if sweep.binding == .client {
            result.reason = "the client was the bottleneck: the capacity measured is the client's"
        } else {
            result.passed = op.holds(result.measured!, limit)
        }
        return result
    }
}
