/// SplitMix64: the small seeded generator of the backend side (the sampler, the server's fault draws, the
/// test models' weights) and of the tokenizer's texts (`ExactTokenText`, `TokenBlockPrompts`). Integer-only
/// state, so a seed gives the same stream on every platform. It lives here because this target is the one
/// both the engine and the runner import; the profiler's Core has its own (`ScenarioRandom`), as Core
/// imports neither.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed mixed from two values (a seed and a block id, say): different pairs give unrelated streams.
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var random = SplitMix64(state: a ^ (b &* 0xD6E8_FEB8_6659_FD93))
        return random.next()
    }
}
