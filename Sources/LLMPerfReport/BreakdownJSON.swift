import LLMPerfCore

/// A run's median bar as JSON, under `breakdown` in `runs show --json` and in each run of
/// `report --format json`: the segments in waterfall order (name, title, side, median ms), how many
/// requests had a breakdown, whether their server reported every phase, the sum of the medians and the
/// network-and-client remainder (the two segments on the wire).
struct BreakdownJSON: Encodable, Equatable {
    struct Segment: Encodable, Equatable {
        var segment: String
        var title: String
        var side: String
        var medianMs: Double
    }

    var requests: Int
    var complete: Bool
    var segments: [Segment]
    var sumMs: Double
    var networkAndClientMs: Double

    init(_ summary: LatencyBreakdown.Summary) {
        requests = summary.count
        complete = summary.complete
        segments = LatencyBreakdown.Segment.allCases.map {
            Segment(segment: $0.rawValue, title: $0.title, side: $0.side.rawValue, medianMs: summary[$0])
        }
        sumMs = summary.totalMillis
        networkAndClientMs = summary.networkAndClientMillis
    }
}
