/// SplitMix64: the backend side's one small seeded generator (the sampler, the server's fault
/// draws, the test models' weights). Integer-only state, so a seed gives the same stream on
/// every platform. The profiler side has its own (LLMPerfCore's ScenarioRandom): the two sides
/// never import each other.
public struct SplitMix64: Sendable, Equatable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
