/// The server side's one way from a `Duration` to nanoseconds (the client side has its own in
/// LLMPerfCore: the two sides never import each other).
extension Duration {
    /// Whole nanoseconds, clamped to 0…UInt64.max (0 for a negative duration).
    var wholeNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max }
        let (sum, overflowSum) = whole.addingReportingOverflow(UInt64(max(0, attoseconds / 1_000_000_000)))
        return overflowSum ? UInt64.max : sum
    }
}
