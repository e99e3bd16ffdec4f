import LLMPerfCore

/// The sentence under "Where it moved": how far the sum of the segments' medians moved (up to the first
/// token, or the whole request) and which segments moved it (`Shift.drivers`):
///
/// - one driver holding at least 95% of the change: "TTFT p50 moved −40.1 ms, all in the server's queue
///   wait (−39.8 ms)."
/// - one driver holding less: "TTFT p50 moved −40.1 ms; −34.0 ms of it is the server's queue wait."
/// - several: "TTFT p50 moved +12.0 ms, spread over the server's prefill (+6.0 ms) and the server's queue
///   wait (+5.0 ms)." (", and others" when the drivers listed hold less than 80% of it)
/// - none (the change shows as 0): "TTFT p50 did not move."
public enum BreakdownSentence {
    /// The share of the change one driver must hold to be "all" of it.
    public static let allShare = 0.95

    public static func text(_ shift: LatencyBreakdown.Shift, scope: LatencyBreakdown.Shift.Scope) -> String {
        let name = scope == .ttft ? "TTFT p50" : "Total p50"
        let total = shift.total(scope)
        let moved = Formatting.signedMilliseconds(total)
        let drivers = shift.drivers(scope)
        guard moved != "0", let first = drivers.first else { return "\(name) did not move." }
        func part(_ driver: (segment: LatencyBreakdown.Segment, change: Double)) -> String {
            "\(driver.segment.phrase) (\(Formatting.signedMilliseconds(driver.change)) ms)"
        }
        if drivers.count == 1 {
            if abs(first.change) >= allShare * abs(total) { return "\(name) moved \(moved) ms, all in \(part(first))." }
            return "\(name) moved \(moved) ms; \(Formatting.signedMilliseconds(first.change)) ms of it is "
                + "\(first.segment.phrase)."
        }
        let parts = drivers.map(part)
        let covered = drivers.reduce(0) { $0 + abs($1.change) }
        let list =
            covered >= 0.8 * abs(total)
            ? parts.dropLast().joined(separator: ", ") + " and " + parts.last!
            : parts.joined(separator: ", ") + ", and others"
        return "\(name) moved \(moved) ms, spread over \(list)."
    }
}
