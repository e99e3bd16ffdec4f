import Foundation

/// When an open-loop run sends each request: offsets in nanoseconds from the start of the
/// measured run. The first request goes at 0; after it, `constant` spaces requests exactly
/// 1 / rate apart (offset i = i / rate) and `poisson` draws each gap from an exponential
/// distribution with mean 1 / rate, from a `ScenarioRandom` seeded with `seed`.
///
/// The schedule is an infinite sequence; take `offsets(count:)` or `offsets(before:)`.
public struct ArrivalSchedule: Sendable, Equatable, Sequence {
    public var ratePerSecond: Double
    public var arrival: ArrivalProcess
    public var seed: UInt64

    public init(ratePerSecond: Double, arrival: ArrivalProcess, seed: UInt64) {
        precondition(ratePerSecond.isFinite && ratePerSecond > 0, "rate must be positive and finite")
        self.ratePerSecond = ratePerSecond
        self.arrival = arrival
        self.seed = seed
    }

    /// The schedule of an open-loop load; nil for a closed loop.
    public init?(load: LoadSpec) {
        guard case .open(let rate, let arrival, _) = load.shape else { return nil }
        self.init(ratePerSecond: rate, arrival: arrival, seed: load.seed)
    }

    /// The first `count` send offsets.
    public func offsets(count: Int) -> [UInt64] {
        Array(prefix(Swift.max(0, count)))
    }

    /// Every send offset strictly before `duration`.
    public func offsets(before duration: Duration) -> [UInt64] {
        let limit = duration.wholeNanoseconds
        var result: [UInt64] = []
        for offset in self {
            guard offset < limit else { break }
            result.append(offset)
        }
        return result
    }

    public func makeIterator() -> Iterator {
        Iterator(schedule: self)
    }

    public struct Iterator: IteratorProtocol, Sendable {
        let schedule: ArrivalSchedule
        var index: UInt64 = 0
        var elapsedSeconds: Double = 0
        var random: ScenarioRandom

        init(schedule: ArrivalSchedule) {
            self.schedule = schedule
            self.random = ScenarioRandom(seed: schedule.seed)
        }

        public mutating func next() -> UInt64? {
            defer { index += 1 }
            let seconds: Double
            switch schedule.arrival {
            case .constant:
                seconds = Double(index) / schedule.ratePerSecond
            case .poisson:
                if index > 0 { elapsedSeconds += random.nextExponential(rate: schedule.ratePerSecond) }
                seconds = elapsedSeconds
            }
            let nanos = (seconds * 1e9).rounded()
            return nanos < 1.8e19 ? UInt64(nanos) : UInt64.max
        }
    }
}
