import Foundation

/// The deterministic random source of the statistics (bootstrap resampling): xoshiro256**
/// seeded through SplitMix64, so one 64-bit seed gives one reproducible stream on every
/// platform. Named apart from the workload's arrival-schedule generator on purpose: the two
/// streams never share state.
public struct StatisticsRandom: RandomNumberGenerator, Sendable, Equatable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64) {
        // Seeded through SplitMix64 (`ScenarioRandom`), the usual way to fill xoshiro's state.
        var splitMix = ScenarioRandom(seed: seed)
        s0 = splitMix.next()
        s1 = splitMix.next()
        s2 = splitMix.next()
        s3 = splitMix.next()
    }

    /// A seed derived from a base seed and a stream name (FNV-1a over its UTF-8), stable across
    /// runs and platforms (unlike `Hasher`).
    public static func seed(_ base: UInt64, stream: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return base ^ hash
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in the open interval (0, 1): never exactly 0 or 1.
    public mutating func nextUnitOpen() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1.0p-53
    }

    /// A standard normal variate (Box–Muller, one of the pair).
    public mutating func nextNormal() -> Double {
        let u1 = nextUnitOpen()
        let u2 = nextUnitOpen()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// A Gamma(shape, 1) variate for shape ≥ 1 (Marsaglia and Tsang's squeeze method).
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape >= 1, "nextGamma needs shape ≥ 1")
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextUnitOpen()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if Foundation.log(u) < 0.5 * x2 + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }

    /// A Beta(a, b) variate for a, b ≥ 1.
    public mutating func nextBeta(_ a: Double, _ b: Double) -> Double {
        let x = nextGamma(shape: a)
        let y = nextGamma(shape: b)
        return x / (x + y)
    }
}
