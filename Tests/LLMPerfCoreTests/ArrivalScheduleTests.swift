import Foundation
import Testing

@testable import LLMPerfCore

@Suite("Arrival schedule")
struct ArrivalScheduleTests {
    @Test func constantOffsetsAreExactMultiplesOfTheGap() {
        let schedule = ArrivalSchedule(ratePerSecond: 4, arrival: .constant, seed: 99)
        #expect(schedule.offsets(count: 5) == [0, 250_000_000, 500_000_000, 750_000_000, 1_000_000_000])
        let thirds = ArrivalSchedule(ratePerSecond: 3, arrival: .constant, seed: 1)
        #expect(thirds.offsets(count: 4) == [0, 333_333_333, 666_666_667, 1_000_000_000])
        #expect(thirds.offsets(count: 0) == [])
    }

    @Test func offsetsBeforeADuration() {
        let schedule = ArrivalSchedule(ratePerSecond: 10, arrival: .constant, seed: 1)
        let offsets = schedule.offsets(before: .seconds(1))
        #expect(offsets.count == 10)
        #expect(offsets.last == 900_000_000)
        let poisson = ArrivalSchedule(ratePerSecond: 50, arrival: .poisson, seed: 5)
        let within = poisson.offsets(before: .seconds(2))
        #expect(within.allSatisfy { $0 < 2_000_000_000 })
        #expect(poisson.offsets(count: within.count + 1).last! >= 2_000_000_000)
    }

    @Test func poissonIsDeterministicForASeed() {
        let a = ArrivalSchedule(ratePerSecond: 20, arrival: .poisson, seed: 7).offsets(count: 1000)
        let b = ArrivalSchedule(ratePerSecond: 20, arrival: .poisson, seed: 7).offsets(count: 1000)
        let c = ArrivalSchedule(ratePerSecond: 20, arrival: .poisson, seed: 8).offsets(count: 1000)
        #expect(a == b)
        #expect(a != c)
        #expect(a.first == 0)
        #expect(zip(a, a.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func poissonMeanGapIsCloseToTheInverseRate() {
        let rate = 20.0
        let count = 20_000
        let offsets = ArrivalSchedule(ratePerSecond: rate, arrival: .poisson, seed: 12_345).offsets(count: count + 1)
        let meanGapSeconds = Double(offsets.last!) / 1e9 / Double(count)
        // Standard error of the mean of n exponential gaps is (1/rate)/sqrt(n) ≈ 0.7% here; allow 5%.
        #expect(abs(meanGapSeconds - 1 / rate) < 0.05 / rate)
        // Exponential gaps: about 1 - 1/e ≈ 63% of them are shorter than the mean.
        let gaps = zip(offsets, offsets.dropFirst()).map { Double($1 - $0) / 1e9 }
        let shortShare = Double(gaps.filter { $0 < 1 / rate }.count) / Double(gaps.count)
        #expect(abs(shortShare - (1 - exp(-1))) < 0.02)
    }

    @Test func fromALoadSpec() {
        let open = LoadSpec(
            shape: .open(ratePerSecond: 2, arrival: .constant, maxConcurrency: nil), stop: .requests(3), seed: 4)
        #expect(ArrivalSchedule(load: open) == ArrivalSchedule(ratePerSecond: 2, arrival: .constant, seed: 4))
        #expect(ArrivalSchedule(load: LoadSpec(shape: .closed(concurrency: 2), stop: .requests(3))) == nil)
    }
}
