import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// A gate result written for people: each finding's sentence, the measured value and the
/// threshold, exactly; and the JSON document with its text fields.
@Suite struct GateTextTests {
    static let p95TTFT = GateSubject(measure: .metric(.ttft), statistic: "p95")

    static func result(
        _ rule: String, _ subject: GateSubject = p95TTFT, kind: GateRule.Kind, passed: Bool, measured: Double?,
        relativeChange: Double? = nil, pValue: Double? = nil, finding: GateEvaluation.Finding
    ) -> GateEvaluation.Result {
        GateEvaluation.Result(
            rule: rule, subject: subject, kind: kind, passed: passed, measured: measured, baselineValue: 100,
            relativeChange: relativeChange, pValue: pValue, finding: finding)
    }

    @Test func thresholdSentences() {
        let over = Self.result(
            "ttft.p95 < 150ms", kind: .threshold(.less, limit: 150), passed: false, measured: 192.05, finding: .compared
        )
        #expect(over.reason == "p95 TTFT 192.1 ms > 150 ms")
        #expect(over.measuredText == "192.1 ms" && over.threshold == "< 150 ms")
        let errors = Self.result(
            "error_rate < 1%", GateSubject(measure: .errorRate), kind: .threshold(.less, limit: 0.01), passed: false,
            measured: 0.02, finding: .compared)
        #expect(errors.reason == "error rate 2.0% > 1%" && errors.threshold == "< 1%")
        let rate = Self.result(
            "requests_per_s >= 2", GateSubject(measure: .requestsPerSecond),
            kind: .threshold(.greaterOrEqual, limit: 2),
            passed: true, measured: 19.6, finding: .compared)
        #expect(rate.reason == "requests/s 19.60 req/s > 2 req/s")
        let exact = Self.result(
            "ttft.min < 100ms", GateSubject(measure: .metric(.ttft), statistic: "min"),
            kind: .threshold(.less, limit: 100), passed: false, measured: 100, finding: .compared)
        #expect(exact.reason == "min TTFT 100.0 ms = 100 ms (needs < 100 ms)")
        let empty = Self.result(
            "ttft.p95 < 500ms", kind: .threshold(.less, limit: 500), passed: false, measured: nil,
            finding: .nothingToMeasure(side: nil, why: "no successful request has a ttft"))
        #expect(empty.reason == "p95 TTFT: nothing to measure (no successful request has a ttft)")
        #expect(empty.measuredText == "n/a")
    }

    @Test func regressionSentences() {
        let kind = GateRule.Kind.regression(maxPercent: 10)
        let failing = Self.result(
            "ttft.p95: +10%", kind: kind, passed: false, measured: 117, relativeChange: 0.17, pValue: 0.0001,
            finding: .regression(change: 0.17, exceeds: true, alpha: 0.05))
        #expect(failing.threshold == "+10% vs baseline")
        #expect(failing.reason == "p95 TTFT +17.0% vs baseline (p < 0.001) exceeds +10%")
        let noisy = Self.result(
            "ttft.p95: +10%", kind: kind, passed: true, measured: 121.8, relativeChange: 0.218, pValue: 0.336,
            finding: .regression(change: 0.218, exceeds: true, alpha: 0.05))
        #expect(noisy.reason == "p95 TTFT +21.8% vs baseline exceeds +10% but is not significant (p = 0.336 ≥ 0.05)")
        let untested = Self.result(
            "ttft.p95: +10%", kind: kind, passed: true, measured: 121.8, relativeChange: 0.218,
            finding: .regression(change: 0.218, exceeds: true, alpha: 0.05))
        #expect(
            untested.reason
                == "p95 TTFT +21.8% vs baseline exceeds +10% but is not significant (no test: too few samples)")
        let within = Self.result(
            "ttft.p95: +10%", kind: kind, passed: true, measured: 101, relativeChange: 0.01, pValue: 0.41,
            finding: .regression(change: 0.01, exceeds: false, alpha: 0.05))
        #expect(within.reason == "p95 TTFT +1.0% vs baseline (p = 0.410) is within +10%")
        let throughput = Self.result(
            "output_tokens_per_s: -5%", GateSubject(measure: .outputTokensPerSecond),
            kind: .regression(maxPercent: 5), passed: false, measured: 80, relativeChange: -0.2, pValue: 0.0004,
            finding: .regression(change: -0.2, exceeds: true, alpha: 0.05))
        #expect(throughput.threshold == "-5% vs baseline")
        #expect(throughput.reason == "output tokens/s -20.0% vs baseline (p < 0.001) exceeds -5%")
        let fromZero = Self.result(
            "dns.p50: +10%", GateSubject(measure: .metric(.dns), statistic: "p50"), kind: kind, passed: false,
            measured: 5, pValue: 0.0001, finding: .regression(change: .infinity, exceeds: true, alpha: 0.05))
        #expect(fromZero.reason == "p50 DNS +inf% vs baseline (p < 0.001) exceeds +10%")
        let alone = Self.result("ttft.p95: +10%", kind: kind, passed: false, measured: 117, finding: .needsBaseline)
        #expect(alone.reason == "p95 TTFT: a regression rule needs a baseline run (--baseline)")
        let noBaseline = Self.result(
            "ttft.p95: +10%", kind: kind, passed: false, measured: 117,
            finding: .nothingToMeasure(side: .baseline, why: "no successful request has a ttft"))
        #expect(noBaseline.reason == "p95 TTFT: nothing to measure in the baseline (no successful request has a ttft)")
    }

    /// The JSON gate keeps its keys and text fields, and a change from zero (infinite) is left out
    /// rather than written as a number JSON does not have.
    @Test func jsonDocumentHasTheTextFieldsAndNoInfinity() throws {
        let zero = (0..<20).map { i in
            RequestTrace(
                index: i, startedAtNanos: UInt64(i) * 50_000_000, firstByteNanos: 90_000_000,
                chunkAtNanos: [UInt64(i) * 50_000_000 + 100_000_000], chunkTokens: [1],
                endedAtNanos: UInt64(i) * 50_000_000 + 101_000_000, outcome: .ok)
        }
        var withDNS = zero
        for i in withDNS.indices { withDNS[i].dnsNanos = 5_000_000 + UInt64(i) * 100_000 }
        let evaluation = GateEvaluation(rules: [try GateRule.parse("dns.p50: +10%")], run: withDNS, baseline: zero)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(GateDocument(evaluation)), as: UTF8.self)
        #expect(text.hasPrefix(#"{"alpha":0.05,"passed":false,"results":[{"baselineValue":0,"key":"dns.p50","#))
        #expect(text.contains(#""measured":5.95,"measuredText":"6.0 ms","pValue":"#))
        #expect(text.contains(#""reason":"p50 DNS +inf% vs baseline (p < 0.001) exceeds +10%","#))
        #expect(text.hasSuffix(#""rule":"dns.p50: +10%","threshold":"+10% vs baseline"}]}"#))
        #expect(!text.contains("relativeChange") && !text.contains("inf,"))
    }
}
