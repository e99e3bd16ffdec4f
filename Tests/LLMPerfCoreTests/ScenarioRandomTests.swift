import Testing

@testable import LLMPerfCore

@Suite("Seeded generators")
struct ScenarioRandomTests {
    /// The reference outputs of SplitMix64 from state 0.
    @Test func scenarioRandomIsSplitMix64() {
        var generator = ScenarioRandom(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    /// xoshiro256** seeded through SplitMix64: pinned so bootstrap intervals never move.
    @Test func statisticsRandomStreamIsPinned() {
        var generator = StatisticsRandom(seed: 1)
        #expect([generator.next(), generator.next()] == [0xB3F2_AF6D_0FC7_10C5, 0x853B_5596_4736_4CEA])
    }
}
