/// When a request is due, as a pacer says it.
public enum Pace: Sendable, Equatable {
    /// As soon as fewer than the pacer's `maxInFlight` requests are in flight (a closed loop).
    case whenSlotFrees
    /// At this many nanoseconds after the run's start, whatever is in flight; with `maxInFlight`
    /// reached it then waits for a free slot (the wait shows as started − scheduled).
    case at(offsetNanos: UInt64)
    /// No more requests.
    case never
}

/// Decides *when* the next request is due, and nothing else: what is sent, the warmup, the
/// stop limits and cancellation belong to `DriverStateMachine`. The machine asks for one pace
/// per request, in index order, and keeps it until the request goes out.
///
/// A new pacer (the replay of a recorded trace, the steps of a sweep) is a type with these two
/// members; `LoadSpec.makePacer()` picks one for a load.
public protocol Pacer: Sendable {
    /// The most requests in flight at once; nil: no limit.
    var maxInFlight: Int? { get }
    /// When the next request is due.
    mutating func next() -> Pace
}

/// A closed loop: `concurrency` workers, each sending its next request when its previous one
/// ends (at least one).
public struct ClosedLoopPacer: Pacer {
    public let concurrency: Int

    public init(concurrency: Int) { self.concurrency = concurrency }

    public var maxInFlight: Int? { Swift.max(concurrency, 1) }

    public func next() -> Pace { .whenSlotFrees }
}

/// An open loop on an `ArrivalSchedule` (constant spacing or Poisson arrivals), optionally
/// capped at `maxConcurrency` requests in flight.
public struct ArrivalPacer: Pacer {
    public let maxInFlight: Int?
    private var offsets: ArrivalSchedule.Iterator

    public init(schedule: ArrivalSchedule, maxConcurrency: Int? = nil) {
        self.maxInFlight = maxConcurrency
        self.offsets = schedule.makeIterator()
    }

    public mutating func next() -> Pace {
        offsets.next().map { .at(offsetNanos: $0) } ?? .never
    }
}

extension LoadSpec {
    /// The pacer of this load: a closed loop, an open loop on its seeded arrival schedule, or the
    /// replay of a recorded trace;
    /// nil for an open loop whose rate is not a positive finite number (it sends nothing).
    public func makePacer() -> (any Pacer)? {
        switch shape {
        case .closed(let concurrency):
            return ClosedLoopPacer(concurrency: concurrency)
        case .open(let rate, let arrival, let maxConcurrency):
            guard rate > 0 && rate.isFinite else { return nil }
            return ArrivalPacer(
                schedule: ArrivalSchedule(ratePerSecond: rate, arrival: arrival, seed: seed),
                maxConcurrency: maxConcurrency)
        case .replay(let spec):
            return ReplayPacer(spec: spec)
        }
    }
}
