/// `load.replay`: an open loop on a recorded trace. Request i is due at the trace's offset of row i
/// (from the first row) divided by `speed`; after the last row (or `limit` rows) it is `.never`.
/// Nothing caps the requests in flight: the trace says when each arrived, whatever the server did.
public struct ReplayPacer: Pacer {
    public let spec: ReplaySpec
    private var index = 0

    public init(spec: ReplaySpec) { self.spec = spec }

    public var maxInFlight: Int? { nil }

    public mutating func next() -> Pace {
        guard index < spec.requests.count else { return .never }
        defer { index += 1 }
        return .at(offsetNanos: spec.scheduledOffsetNanos(index))
    }
}
