import LLMPerfCore

/// "Where it moved": one candidate's median bar against the baseline's, segment by segment, with the
/// sentences that name what moved TTFT and the whole request. Only for pairs where both runs have a
/// breakdown.
///
/// JSON (`compare --format json`, under `breakdownShifts`): `baseline`, `candidate`, `complete`, `segments`
/// (each `segment`, `side`, `baselineMs`, `candidateMs`, `changeMs`), and `ttft` and `total`, each with
/// `changeMs`, its `drivers` (`segment`, `changeMs`) and the `sentence`.
public struct BreakdownComparison: Sendable, Equatable {
    public var baseline: String
    public var candidate: String
    public var shift: LatencyBreakdown.Shift

    public init(baseline: String, candidate: String, shift: LatencyBreakdown.Shift) {
        self.baseline = baseline
        self.candidate = candidate
        self.shift = shift
    }

    /// Every run after the first against the first, where both have a breakdown; `labels` and
    /// `breakdowns` are in the same (input) order.
    public static func pairs(labels: [String], breakdowns: [LatencyBreakdown.Summary?]) -> [BreakdownComparison] {
        guard let first = breakdowns.first, let baseline = first, labels.count == breakdowns.count else { return [] }
        return breakdowns.indices.dropFirst().compactMap { index in
            breakdowns[index].map {
                BreakdownComparison(
                    baseline: labels[0], candidate: labels[index], shift: .init(baseline: baseline, candidate: $0))
            }
        }
    }

    /// Both runs' servers reported every phase.
    public var complete: Bool { shift.baseline.complete && shift.candidate.complete }

    /// The two sentences: TTFT, then the whole request.
    public var sentences: [String] {
        [BreakdownSentence.text(shift, scope: .ttft), BreakdownSentence.text(shift, scope: .request)]
    }
}

extension BreakdownComparison: Encodable {
    private struct Segment: Encodable {
        var segment: String
        var side: String
        var baselineMs: Double
        var candidateMs: Double
        var changeMs: Double
    }

    private struct Driver: Encodable {
        var segment: String
        var changeMs: Double
    }

    private struct Scope: Encodable {
        var changeMs: Double
        var drivers: [Driver]
        var sentence: String
    }

    private enum Keys: String, CodingKey { case baseline, candidate, complete, segments, ttft, total }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(baseline, forKey: .baseline)
        try container.encode(candidate, forKey: .candidate)
        try container.encode(complete, forKey: .complete)
        try container.encode(
            LatencyBreakdown.Segment.allCases.map {
                Segment(
                    segment: $0.rawValue, side: $0.side.rawValue, baselineMs: shift.baseline[$0],
                    candidateMs: shift.candidate[$0], changeMs: shift.change($0))
            }, forKey: .segments)
        for (scope, key) in [(LatencyBreakdown.Shift.Scope.ttft, Keys.ttft), (.request, .total)] {
            try container.encode(
                Scope(
                    changeMs: shift.total(scope),
                    drivers: shift.drivers(scope).map { Driver(segment: $0.segment.rawValue, changeMs: $0.change) },
                    sentence: BreakdownSentence.text(shift, scope: scope)), forKey: key)
        }
    }
}
