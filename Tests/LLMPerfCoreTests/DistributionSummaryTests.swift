import Testing

@testable import LLMPerfCore

@Suite struct DistributionSummaryTests {
    @Test func quantilesInterpolateLinearly() throws {
        let s = try #require(DistributionSummary([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
        #expect(s.p50 == 5.5)
        #expect(abs(s.p90 - 9.1) < 1e-12)
        #expect(abs(s.p95 - 9.55) < 1e-12)
        #expect(abs(s.p99 - 9.91) < 1e-12)
        #expect(s.mean == 5.5)
        #expect(s.min == 1 && s.max == 10)
        #expect(abs(s.stddev - 3.0276503540974917) < 1e-12)
    }

    @Test func singleValue() throws {
        let s = try #require(DistributionSummary([7]))
        #expect(s.p50 == 7 && s.p99 == 7 && s.stddev == 0)
        #expect(DistributionSummary([]) == nil)
    }
}
