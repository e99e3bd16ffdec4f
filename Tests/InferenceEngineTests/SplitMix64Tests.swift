import LLMTokenizer
import Testing

@testable import InferenceEngine

@Suite("SplitMix64")
struct SplitMix64Tests {
    /// The reference outputs of SplitMix64 from state 0 (Steele, Lea and Flood's generator).
    @Test func referenceStream() {
        var generator = SplitMix64(state: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    /// The sampler draws from SplitMix64 started at seed + γ.
    @Test func samplerDrawsFromTheSharedGenerator() {
        var sampler = Sampler(parameters: SamplingParameters(temperature: 1, seed: 42))
        var generator = SplitMix64(state: 42 &+ 0x9E37_79B9_7F4A_7C15)
        #expect(sampler.nextRandom() == generator.next())
        #expect(sampler.nextRandom() == generator.next())
    }
}
