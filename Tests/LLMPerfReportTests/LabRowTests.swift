import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// The lab table's numbers (Core's `LabRow`), and its cells and sentences (LLMPerfReport's).
@Suite("Lab rows")
struct LabRowTests {
    static let ttft = LabMetric(measure: .metric(.ttft), statistic: "p50")
    static let throughput = LabMetric(measure: .outputTokensPerSecond, statistic: nil)

    static func row(
        _ optimization: String = "streaming", metric: LabMetric = ttft,
        moves: String = "time to first visible token p50",
        before: Double?, after: Double?, verdict: Verdict, p: Double?, expectation: LabExpectation? = nil
    ) -> LabRow {
        LabRow(
            scenario: "s", optimization: optimization, before: "off", after: "on", moves: moves, metric: metric,
            unit: metric.measure.unit, beforeValue: before, afterValue: after, beforeSamples: 20, afterSamples: 20,
            verdict: verdict, pValue: p, expectation: expectation)
    }

    // MARK: formatting

    @Test func factors() {
        #expect(LabFormat.factor(5) == "5×")
        #expect(LabFormat.factor(1.8) == "1.8×")
        #expect(LabFormat.factor(5.954) == "5.95×")
        #expect(LabFormat.factor(12.34) == "12.3×")
        #expect(LabFormat.factor(240.4) == "240×")
    }

    @Test func percentsAndRatios() {
        #expect(LabFormat.percent(-0.8321) == "−83.2%")
        #expect(LabFormat.percent(0.041) == "+4.1%")
        #expect(LabFormat.percent(-0.0001) == "0.0%")
        #expect(LabFormat.ratioText(before: 500, after: 84) == "5.95× lower")
        #expect(LabFormat.ratioText(before: 40, after: 104) == "2.6× higher")
        #expect(LabFormat.ratioText(before: 100, after: 95) == nil)  // under 10%: the percent says it
        #expect(LabFormat.ratioText(before: 0, after: 5) == nil)
    }

    @Test func valuesAndPValues() {
        #expect(LabFormat.value(1234.4, unit: .milliseconds) == "1234 ms")
        #expect(LabFormat.value(48.66, unit: .milliseconds) == "48.7 ms")
        #expect(LabFormat.value(0.844, unit: .milliseconds) == "0.84 ms")
        #expect(LabFormat.value(105.23, unit: .tokensPerSecond) == "105.2 tok/s")
        #expect(LabFormat.p(0.0004) == "p<0.001")
        #expect(LabFormat.p(0.0312) == "p=0.0312")
        #expect(LabFormat.p(0.4123, spaced: true) == "p = 0.41")
        #expect(LabFormat.p(nil) == "p n/a")
    }

    @Test func expectationTexts() {
        #expect(LabExpectation.factor(2.5).text(measure: .outputTokensPerSecond) == "2.5×")
        #expect(LabExpectation.bound(5).text(measure: .metric(.ttft)) == "≤ 5 ms")
        #expect(LabExpectation.bound(100).text(measure: .outputTokensPerSecond) == "≥ 100 tok/s")
        #expect(LabExpectation.parse("5x", measure: .metric(.ttft)) == .factor(5))
        #expect(LabExpectation.parse("1.8×", measure: .metric(.tpot)) == .factor(1.8))
        #expect(LabExpectation.parse("≤ 5ms", measure: .metric(.ttft)) == .bound(5))
        #expect(LabExpectation.parse("<=1.5s", measure: .metric(.ttft)) == .bound(1500))
        #expect(LabExpectation.parse(">= 80", measure: .outputTokensPerSecond) == .bound(80))
        #expect(LabExpectation.parse(">= 80", measure: .metric(.ttft)) == nil)
        #expect(LabExpectation.parse("1x", measure: .metric(.ttft)) == nil)
        #expect(LabExpectation.parse("<= 5", measure: .metric(.ttft)) == nil)
    }

    // MARK: rows

    @Test func aLatencyThatHelpedAsExpected() {
        let row = Self.row(before: 500, after: 84, verdict: .better, p: 0.00001, expectation: .factor(5))
        #expect(row.relativeChange == -0.832)
        #expect(row.improvementFactor == 500.0 / 84.0)
        #expect(row.beforeText == "500.0 ms")
        #expect(row.afterText == "84.0 ms")
        #expect(row.changeText == "−83.2% (5.95× lower)")
        #expect(row.significanceText == "yes (p<0.001)")
        #expect(row.expectationMet == true)
        #expect(row.expectationText == "5× met")
        #expect(row.sentence == nil)
    }

    @Test func helpedButShortOfTheFactor() {
        let row = Self.row(
            "speculative decoding (n-gram, grounded prompt)", moves: "time per output token p50", before: 30,
            after: 24, verdict: .better, p: 0.002, expectation: .factor(1.5))
        #expect(row.improvementFactor == 1.25)
        #expect(row.expectationMet == false)
        #expect(row.expectationText == "1.5× missed")
        #expect(row.changeText == "−20.0% (1.25× lower)")
        #expect(
            row.sentence
                == "speculative decoding (n-gram, grounded prompt) helped, but less than aimed for: time per output token p50 1.25× lower (from 30.0 ms to 24.0 ms), short of the 1.5× expected."
        )
    }

    @Test func aBoundIsJudgedOnTheAfterValue() {
        let hit = Self.row(
            "response cache", moves: "time to first token p50", before: 41.2, after: 0.84, verdict: .better, p: 0.0001,
            expectation: .bound(5))
        #expect(hit.expectationMet == true)
        #expect(hit.expectationText == "≤ 5 ms met")
        #expect(hit.changeText == "−98.0% (49.0× lower)")
        #expect(hit.sentence == nil)
        let slow = Self.row(
            "response cache", moves: "time to first token p50", before: 41.2, after: 7.5, verdict: .better, p: 0.0001,
            expectation: .bound(5))
        #expect(slow.expectationMet == false)
        #expect(
            slow.sentence
                == "response cache helped, but less than aimed for: time to first token p50 was 7.50 ms (from 41.2 ms), not ≤ 5 ms."
        )
    }

    @Test func throughputIsBetterHigher() {
        let row = Self.row(
            "continuous batching", metric: Self.throughput, moves: "output tokens per second", before: 40, after: 104,
            verdict: .better, p: 0.0001, expectation: .factor(2.5))
        #expect(row.improvementFactor == 2.6)
        #expect(row.beforeText == "40.0 tok/s")
        #expect(row.changeText == "+160.0% (2.6× higher)")
        #expect(row.expectationText == "2.5× met")
        #expect(row.sentence == nil)
    }

    @Test func noSignificantChangeSaysSo() {
        let row = Self.row(
            "speculative decoding (n-gram, open prompt)", moves: "time per output token p50", before: 21.3,
            after: 20.9, verdict: .noChange, p: 0.41)
        #expect(row.significanceText == "no (p=0.41)")
        #expect(row.changeText == "−1.9%")
        #expect(row.expectationText == "")
        #expect(
            row.sentence
                == "speculative decoding (n-gram, open prompt) did not help here: time per output token p50 went from 21.3 ms to 20.9 ms (−1.9%), which is not a significant difference (p = 0.41)."
        )
    }

    @Test func aSignificantButTinyChangeIsNoChange() {
        let row = Self.row(before: 100, after: 99, verdict: .noChange, p: 0.01)
        #expect(row.significanceText == "no (change under 2%)")
        #expect(
            row.sentence
                == "streaming did not help here: time to first visible token p50 went from 100.0 ms to 99.0 ms (−1.0%), a change under 2%, too small to count."
        )
    }

    @Test func worseIsSaidPlainly() {
        let row = Self.row(
            "speculative decoding (self q4_0 draft, open prompt)", moves: "time per output token p50", before: 20,
            after: 25, verdict: .worse, p: 0.0031, expectation: .factor(1.8))
        #expect(row.significanceText == "yes, worse (p=0.0031)")
        #expect(row.changeText == "+25.0% (1.25× higher)")
        #expect(row.improvementFactor == 0.8)
        #expect(row.expectationText == "1.8× missed")
        #expect(
            row.sentence
                == "speculative decoding (self q4_0 draft, open prompt) did not help here: it made time per output token p50 worse, from 20.0 ms to 25.0 ms (+25.0%, p = 0.0031)."
        )
    }

    @Test func nothingToCompare() {
        let row = Self.row(before: 120, after: nil, verdict: .notComparable, p: nil, expectation: .factor(5))
        #expect(row.changeText == "–")
        #expect(row.afterText == "–")
        #expect(row.significanceText == "n/a")
        #expect(row.expectationMet == nil)
        #expect(row.expectationText == "5× n/a")
        #expect(
            row.sentence
                == "streaming could not be judged: 'on' had no time to first visible token p50 values to compare (too few successful requests)."
        )
    }

    // MARK: from a comparison

    static func trace(index: Int, ttftMillis: Double, tokens: Int = 4) -> RequestTrace {
        let start = UInt64(index) * 1_000_000_000
        let first = start + UInt64(ttftMillis * 1e6)
        let chunks = (0..<tokens).map { first + UInt64($0) * 10_000_000 }
        return RequestTrace(
            index: index, isWarmup: false, promptIndex: 0, scheduledAtNanos: nil, startedAtNanos: start,
            dnsNanos: 0, connectNanos: 0, tlsNanos: 0, sentNanos: 0, firstByteNanos: first - start,
            chunkAtNanos: chunks, chunkTokens: chunks.map { _ in 1 }, endedAtNanos: chunks.last! + 1_000_000,
            usage: TokenUsage(promptTokens: 5, completionTokens: tokens), outcome: .ok,
            connection: ConnectionInfo(reused: true, httpVersion: "1.1", remoteAddress: "127.0.0.1:1"), httpStatus: 200,
            outputText: "")
    }

    @Test func rowsComeFromTheComparisonOfTheLabsMeasure() throws {
        let before = (0..<12).map { Self.trace(index: $0, ttftMillis: 100 + Double($0)) }
        let after = (0..<12).map { Self.trace(index: $0, ttftMillis: 20 + Double($0)) }
        let comparison = try RunComparison(
            runs: [ComparisonInput(label: "off", traces: before), ComparisonInput(label: "on", traces: after)],
            options: RunComparison.Options(bootstrapResamples: 50))
        let spec = LabSpec(
            optimization: "streaming", moves: "time to first visible token", metric: Self.ttft, side: .client,
            expectation: .factor(5), comparisons: [LabComparison(before: "off", after: "on", expectation: .factor(5))])
        let comparisonRow = comparison.comparisons[0].rows.first { $0.measure == .metric(.ttft) }
        let row = LabRow(
            scenario: "streaming", spec: spec, pair: spec.comparisons[0], row: comparisonRow,
            options: comparison.options)
        #expect(row.optimization == "streaming")
        #expect(row.moves == "time to first visible token p50")
        #expect(row.beforeValue == 105.5)
        #expect(row.afterValue == 25.5)
        #expect(row.beforeSamples == 12 && row.afterSamples == 12)
        #expect(row.verdict == .better)
        #expect(row.changeText == "−75.8% (4.14× lower)")
        #expect(row.expectationText == "5× missed")
        let labelled = LabRow(
            scenario: "streaming", spec: spec, pair: LabComparison(before: "off", after: "on", label: "fast"),
            row: nil)
        #expect(labelled.optimization == "streaming (fast)")
        #expect(labelled.verdict == .notComparable)
        #expect(labelled.expectation == nil)
    }
}
