/// SplitMix64: the seeded generator behind the exact-length texts, so a seed gives the same text on every machine.
public struct TokenTextRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed mixed from two values (a seed and a block id, say): different pairs give unrelated streams.
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var random = TokenTextRandom(seed: a ^ (b &* 0xD6E8_FEB8_6659_FD93))
        return random.next()
    }
}
