#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Picks tokens from logits: greedy, or temperature / top-k / top-p sampling from a seeded generator.
public struct Sampler {
    public let parameters: SamplingParameters
    private var state: UInt64

    public init(parameters: SamplingParameters) {
        self.parameters = parameters
        state = parameters.seed &+ 0x9E37_79B9_7F4A_7C15
    }

    /// SplitMix64.
    mutating func nextRandom() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    mutating func nextUnit() -> Double { Double(nextRandom() >> 11) * 0x1p-53 }

    public static func argmax(_ logits: UnsafePointer<Float>, count: Int) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return Int32(best)
    }

    public mutating func sample(_ logits: UnsafePointer<Float>, count: Int) -> Int32 {
        let p = parameters
        if p.temperature <= 0 || p.topK == 1 { return Self.argmax(logits, count: count) }
        var candidates: [(id: Int32, logit: Float)]
        if p.topK > 0 && p.topK < count {
            // Keep the top k with a small heap-free selection: partial sort of a copy.
            candidates = (0..<count).map { (Int32($0), logits[$0]) }
            candidates.sort { $0.logit > $1.logit }
            candidates.removeLast(count - p.topK)
        } else {
            candidates = (0..<count).map { (Int32($0), logits[$0]) }
            candidates.sort { $0.logit > $1.logit }
        }
        let maxLogit = candidates[0].logit
        var probabilities = candidates.map { exp(Double(($0.logit - maxLogit) / p.temperature)) }
        var total = probabilities.reduce(0, +)
        if p.topP < 1 {
            var cumulative = 0.0
            var keep = probabilities.count
            for (i, q) in probabilities.enumerated() {
                cumulative += q / total
                if cumulative >= Double(p.topP) {
                    keep = i + 1
                    break
                }
            }
            probabilities.removeLast(probabilities.count - keep)
            total = probabilities.reduce(0, +)
        }
        var r = nextUnit() * total
        for (i, q) in probabilities.enumerated() {
            r -= q
            if r < 0 { return candidates[i].id }
        }
        return candidates[probabilities.count - 1].id
    }
}
