import Testing

@testable import LLMPerfCore

/// Reference values from scipy 1.17.1:
/// `scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method=..., use_continuity=True)`.
@Suite struct MannWhitneyUTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance }

    @Test func exactWithoutTies() throws {
        // scipy's documentation example (ages of males and females).
        let males: [Double] = [19, 22, 16, 29, 24]
        let females: [Double] = [20, 11, 17, 12]
        let test = try #require(MannWhitneyU.test(males, females))
        #expect(test.method == .exact)
        #expect(!test.hasTies)
        #expect(test.u1 == 17 && test.u2 == 3)
        #expect(close(test.pValue, 0.1111111111111111))
        #expect(close(test.commonLanguageEffectSize, 17.0 / 20.0))
        #expect(close(test.rankBiserial, 14.0 / 20.0))
    }

    @Test func asymptoticWithoutTies() throws {
        let test = try #require(MannWhitneyU.test([19, 22, 16, 29, 24], [20, 11, 17, 12], method: .asymptotic))
        #expect(test.method == .asymptotic)
        #expect(close(test.pValue, 0.11134688653314041))
    }

    @Test func exactSignificantAndSymmetric() throws {
        let x: [Double] = [12.1, 14.3, 9.8, 11.0, 15.2, 13.7, 10.4]
        let y: [Double] = [16.5, 18.2, 14.9, 17.1, 19.6, 13.2, 20.3, 15.8, 17.7, 21.4, 16.9, 18.8]
        let exact = try #require(MannWhitneyU.test(x, y))
        #expect(exact.method == .exact && exact.u1 == 4)
        #expect(close(exact.pValue, 0.0004763038818766373))
        let swapped = try #require(MannWhitneyU.test(y, x))
        #expect(swapped.u1 == 80 && close(swapped.pValue, 0.0004763038818766373))
        let normal = try #require(MannWhitneyU.test(x, y, method: .asymptotic))
        #expect(close(normal.pValue, 0.0015279162216223405))
    }

    @Test func exactAtTheLimitOfTwentyEach() throws {
        let a = (0..<20).map { Double(($0 * 37) % 101) + 0.5 }
        let b = (0..<20).map { Double(($0 * 53) % 103) + 0.25 }
        let exact = try #require(MannWhitneyU.test(a, b))
        #expect(exact.method == .exact && exact.u1 == 234)
        #expect(close(exact.pValue, 0.3688623955442159))
        let normal = try #require(MannWhitneyU.test(a, b, method: .asymptotic))
        #expect(close(normal.pValue, 0.364841654608659))
        // One more value on one side: beyond the exact limit, the approximation is used.
        #expect(MannWhitneyU.test(a + [200.5], b)?.method == .asymptotic)
    }

    @Test func tiesUseTheCorrectedNormalApproximation() throws {
        let x: [Double] = [1, 2, 2, 3, 4, 5, 5, 6]
        let y: [Double] = [3, 3, 4, 6, 7, 8, 8, 9, 10]
        let test = try #require(MannWhitneyU.test(x, y))
        #expect(test.hasTies && test.method == .asymptotic)
        #expect(test.u1 == 13)
        #expect(close(test.pValue, 0.02947289220529699))
        // An explicit exact request cannot be honoured with ties.
        #expect(MannWhitneyU.test(x, y, method: .exact)?.method == .asymptotic)

        let c = (0..<40).map { Double(($0 * 7) % 31) }
        let d = (0..<35).map { Double(($0 * 11) % 29 + 3) }
        let larger = try #require(MannWhitneyU.test(c, d))
        #expect(larger.u1 == 611)
        #expect(close(larger.pValue, 0.34700466511964845))
    }

    @Test func degenerateSamples() throws {
        #expect(MannWhitneyU.test([], [1, 2]) == nil)
        let allTied = try #require(MannWhitneyU.test([5, 5, 5], [5, 5]))
        #expect(allTied.pValue == 1 && allTied.u1 == 3)
        let single = try #require(MannWhitneyU.test([1], [2]))
        #expect(single.method == .exact && single.pValue == 1)
    }

    @Test func exactDistributionSumsToOne() {
        #expect(close(MannWhitneyU.exactUpperTail(0, 6, 9), 1))
        #expect(close(MannWhitneyU.exactUpperTail(54, 6, 9), 1.0 / 5005.0, 1e-15))
        #expect(MannWhitneyU.exactUpperTail(55, 6, 9) == 0)
    }
}
