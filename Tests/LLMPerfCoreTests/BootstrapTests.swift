import Foundation
import Testing

@testable import LLMPerfCore

@Suite struct BootstrapTests {
    static func normalSample(_ n: Int, mean: Double, sd: Double, seed: UInt64) -> [Double] {
        var random = StatisticsRandom(seed: seed)
        return (0..<n).map { _ in mean + sd * random.nextNormal() }
    }

    @Test func sameSeedSameIntervalDifferentSeedDifferent() throws {
        let a = Self.normalSample(300, mean: 100, sd: 15, seed: 1)
        let b = Self.normalSample(300, mean: 104, sd: 15, seed: 2)
        let first = try #require(Bootstrap(seed: 7).quantileDifference(baseline: a, candidate: b, quantile: 0.5))
        let again = try #require(Bootstrap(seed: 7).quantileDifference(baseline: a, candidate: b, quantile: 0.5))
        let other = try #require(Bootstrap(seed: 8).quantileDifference(baseline: a, candidate: b, quantile: 0.5))
        #expect(first == again)
        #expect(first.lower != other.lower || first.upper != other.upper)
        #expect(first.estimate == other.estimate)
        #expect(first.resamples == 2000 && first.confidence == 0.95)
        #expect(first.lower < first.estimate && first.estimate < first.upper)
    }

    @Test func intervalCoversTheTrueShift() throws {
        let a = Self.normalSample(500, mean: 100, sd: 10, seed: 11)
        let b = Self.normalSample(500, mean: 120, sd: 10, seed: 12)
        let bootstrap = Bootstrap(seed: 3)
        let p50 = try #require(bootstrap.quantileDifference(baseline: a, candidate: b, quantile: 0.5))
        let p95 = try #require(bootstrap.quantileDifference(baseline: a, candidate: b, quantile: 0.95))
        #expect(p50.contains(20) && p50.excludesZero)
        #expect(p95.contains(20) && p95.excludesZero)
        #expect(p50.upper - p50.lower < 6)
        // No shift: the interval straddles zero.
        let same = Self.normalSample(500, mean: 100, sd: 10, seed: 13)
        let none = try #require(bootstrap.quantileDifference(baseline: a, candidate: same, quantile: 0.5))
        #expect(none.contains(0))
    }

    /// The order-statistic shortcut draws from the same distribution as resampling for real.
    @Test func matchesNaiveResampling() {
        let x = Self.normalSample(60, mean: 50, sd: 8, seed: 21).sorted()
        for p in [0.5, 0.95] {
            var fast = StatisticsRandom(seed: 5)
            var naive = StatisticsRandom(seed: 6)
            let draws = 5_000
            var fastValues: [Double] = []
            var naiveValues: [Double] = []
            for _ in 0..<draws {
                fastValues.append(Bootstrap.resampledQuantile(x, p, &fast))
                let resample = (0..<x.count).map { _ in x[Int(naive.next() % UInt64(x.count))] }.sorted()
                naiveValues.append(Quantile.of(sorted: resample, p))
            }
            let fastSummary = DistributionSummary(fastValues)!
            let naiveSummary = DistributionSummary(naiveValues)!
            let standardError = naiveSummary.stddev / Double(draws).squareRoot()
            let meanGap: Double = abs(fastSummary.mean - naiveSummary.mean)
            let spreadRatio: Double = fastSummary.stddev / naiveSummary.stddev
            let medianGap: Double = abs(fastSummary.p50 - naiveSummary.p50)
            #expect(meanGap < 6 * standardError)
            #expect(abs(spreadRatio - 1) < 0.06)
            #expect(medianGap < 0.5 * naiveSummary.stddev)
        }
    }

    @Test func tinyAndEmptySamples() throws {
        #expect(Bootstrap().quantileDifference(baseline: [], candidate: [1], quantile: 0.5) == nil)
        let single = try #require(Bootstrap().quantileDifference(baseline: [3], candidate: [5], quantile: 0.95))
        #expect(single.lower == 2 && single.upper == 2 && single.estimate == 2)
    }

    @Test func generatorIsReproducible() {
        var a = StatisticsRandom(seed: 42)
        var b = StatisticsRandom(seed: 42)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = StatisticsRandom(seed: 9)
        let beta = (0..<20_000).map { _ in c.nextBeta(3, 5) }
        let mean: Double = beta.reduce(0, +) / 20_000
        #expect(abs(mean - 0.375) < 0.005)
        #expect(StatisticsRandom.seed(1, stream: "a") != StatisticsRandom.seed(1, stream: "b"))
    }
}
