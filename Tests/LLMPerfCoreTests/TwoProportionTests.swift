import Testing

@testable import LLMPerfCore

@Suite struct TwoProportionTests {
    @Test func matchesPearsonChiSquareWithoutCorrection() throws {
        // scipy: chi2_contingency([[12, 388], [27, 353]], correction=False) → p = 0.008551736231688485;
        // z by hand with the pooled standard error = 2.6294728414309043.
        let test = try #require(TwoProportionTest(successes1: 12, trials1: 400, successes2: 27, trials2: 380))
        #expect(abs(test.z - 2.6294728414309043) < 1e-12)
        #expect(abs(test.pValue - 0.008551736231688485) < 1e-12)
        #expect(abs(test.difference - (27.0 / 380 - 12.0 / 400)) < 1e-15)
    }

    @Test func degenerateCases() throws {
        let none = try #require(TwoProportionTest(successes1: 0, trials1: 50, successes2: 0, trials2: 70))
        #expect(none.pValue == 1 && none.z == 0)
        #expect(TwoProportionTest(successes1: 1, trials1: 0, successes2: 0, trials2: 5) == nil)
        #expect(TwoProportionTest(successes1: 6, trials1: 5, successes2: 0, trials2: 5) == nil)
    }

    @Test func normalTails() {
        #expect(abs(NormalDistribution.cdf(1.959963984540054) - 0.975) < 1e-12)
        #expect(abs(NormalDistribution.twoSidedPValue(-1.959963984540054) - 0.05) < 1e-12)
        #expect(NormalDistribution.survival(30) > 0)
    }
}
