import Foundation

/// SplitMix64: the profiler side's one small seeded generator (arrival schedules, synthetic
/// prompts, and the seeding of `StatisticsRandom`; the backend side has InferenceEngine's
/// `SplitMix64`).
/// Integer-only state, so a seed gives the same stream on every platform (Foundation's and
/// the standard library's random sources are never used for anything a run records).
public struct ScenarioRandom: Sendable, Equatable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: 53 random bits, never zero (so `log` of it is finite).
    public mutating func nextUnitInterval() -> Double {
        Double((next() >> 11) + 1) * 0x1p-53
    }

    /// Exponentially distributed with the given rate (mean 1 / rate).
    public mutating func nextExponential(rate: Double) -> Double {
        -Foundation.log(nextUnitInterval()) / rate
    }

    /// Standard normal (Box–Muller; one draw per call, the pair's second half is dropped).
    public mutating func nextStandardNormal() -> Double {
        let u1 = nextUnitInterval()
        let u2 = nextUnitInterval()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Uniform in 0..<bound (bound > 0), by rejection so that no value is favoured.
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let value = next()
            if value < limit { return value % bound }
        }
    }
}
