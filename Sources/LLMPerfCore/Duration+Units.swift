/// The client side's one way from a `Duration` to plain numbers (the server has its own in
/// InferenceServer: the two sides never import each other).
extension Duration {
    /// Whole nanoseconds (a fraction of a nanosecond is dropped), 0 for a negative duration.
    /// Durations come from `DurationParser` (at most Int64.max ns), so the product never wraps.
    public var wholeNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// Milliseconds as a `Double`: seconds × 1000 + attoseconds / 10¹⁵ (how SLO limits and lab
    /// bounds are stored).
    public var millisecondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// Seconds as a `Double`: seconds + attoseconds / 10¹⁸.
    public var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
