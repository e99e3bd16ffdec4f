import Foundation
import Testing

@testable import LLMPerfCore

@Suite struct GateTests {
    func threshold(_ rule: GateRule) -> (GateOperator, Double)? {
        if case .threshold(let op, let limit) = rule.kind { return (op, limit) }
        return nil
    }

    @Test func parsesAbsoluteRules() throws {
        let ttft = try GateRule.parse("ttft.p95 < 500ms")
        #expect(ttft.subject == GateSubject(measure: .metric(.ttft), statistic: "p95"))
        #expect(threshold(ttft)! == (.less, 500))
        #expect(ttft.text == "ttft.p95 < 500ms")
        #expect(threshold(try GateRule.parse("tpot.p99 <= 50ms"))! == (.lessOrEqual, 50))
        #expect(threshold(try GateRule.parse("e2e.mean<2s"))! == (.less, 2000))
        #expect(threshold(try GateRule.parse("itl.median <= 250us"))! == (.lessOrEqual, 0.25))
        #expect(try GateRule.parse("itl.median <= 250us").subject.statistic == "p50")
        let errors = try GateRule.parse("error_rate < 1%")
        #expect(errors.subject.measure == .errorRate && threshold(errors)! == (.less, 0.01))
        #expect(threshold(try GateRule.parse("output_tokens_per_s > 100"))! == (.greater, 100))
        #expect(threshold(try GateRule.parse("goodput >= 90%"))! == (.greaterOrEqual, 0.9))
        #expect(threshold(try GateRule.parse("requests_per_s >= 2"))! == (.greaterOrEqual, 2))
        #expect(threshold(try GateRule.parse("requests_per_s >= 2 req/s"))! == (.greaterOrEqual, 2))
        #expect(threshold(try GateRule.parse("output_tokens.p50 >= 32"))! == (.greaterOrEqual, 32))
    }

    @Test func parsesRegressionRules() throws {
        for text in ["ttft.p95=+10%", "ttft.p95: +10%", "ttft.p95 = 10%"] {
            let rule = try GateRule.parse(text)
            #expect(rule.kind == .regression(maxPercent: 10), "\(text)")
            #expect(rule.subject.key == "ttft.p95")
        }
        #expect(try GateRule.parseMaxRegression("ttft.p95=10%").kind == .regression(maxPercent: 10))
        #expect(try GateRule.parse("output_tokens_per_s: -5%").kind == .regression(maxPercent: 5))
        #expect(
            throws: GateRuleError(rule: "ttft.p95 < 5ms", reason: "expected a regression limit like 'ttft.p95=10%'")
        ) {
            try GateRule.parseMaxRegression("ttft.p95 < 5ms")
        }
    }

    @Test(arguments: [
        ("", "invalid rule: empty rule; expected e.g. 'ttft.p95 < 500ms'"),
        (
            "ttft.p95 500ms",
            "invalid rule 'ttft.p95 500ms': expected an operator (<, <=, >, >=) between the metric and the limit, "
                + "e.g. 'ttft.p95 < 500ms'"
        ),
        ("tpop.p95 < 50ms", "invalid rule 'tpop.p95 < 50ms': unknown metric 'tpop'; did you mean 'tpot'?"),
        ("error_rat < 1%", "invalid rule 'error_rat < 1%': unknown metric 'error_rat'; did you mean 'error_rate'?"),
        (
            "latency.p95 < 1s",
            "invalid rule 'latency.p95 < 1s': unknown metric 'latency'; expected one of: dns, tcp, tls, ttfb, ttft, "
                + "ttft_scheduled, ttfa, reasoning_time, tpot, itl, e2e, total, queue, input_tokens, output_tokens, "
                + "reasoning_tokens, answer_tokens, usage_diff, server_prompt, server_generation, server_total, "
                + "server_queue, server_preprocess, server_postprocess, network_client, output_tokens_per_s, input_tokens_per_s, requests_per_s, error_rate, goodput"
        ),
        (
            "ttft < 500ms",
            "invalid rule 'ttft < 500ms': 'ttft' needs a statistic, e.g. ttft.p95 (one of p50, p90, p95, p99, mean, "
                + "min, max, stddev)"
        ),
        (
            "ttft.meen < 500ms",
            "invalid rule 'ttft.meen < 500ms': unknown statistic 'meen' (expected one of p50, p90, p95, p99, mean, "
                + "min, max, stddev); did you mean 'mean'?"
        ),
        (
            "error_rate.p95 < 1%",
            "invalid rule 'error_rate.p95 < 1%': 'error_rate' is a run-level value and takes no statistic"
        ),
        (
            "ttft.p95 == 500ms",
            "invalid rule 'ttft.p95 == 500ms': unsupported operator '=='; use <, <=, > or >= (or = / : with a "
                + "percentage for a regression limit, e.g. ttft.p95: +10%)"
        ),
        ("< 500ms", "invalid rule '< 500ms': expected a metric before '<', e.g. 'ttft.p95 < 500ms'"),
        ("ttft.p95 <", "invalid rule 'ttft.p95 <': expected a limit after '<', e.g. 500ms"),
        (
            "ttft.p95 < fast",
            "invalid rule 'ttft.p95 < fast': expected a number after '<', e.g. 500ms, found 'fast'"
        ),
        (
            "ttft.p95 < 500",
            "invalid rule 'ttft.p95 < 500': 'ttft.p95' is a time: give the unit, e.g. 500ms or 0.5s"
        ),
        ("ttft.p95 < 5%", "invalid rule 'ttft.p95 < 5%': 'ttft.p95' is a time: unit '%' is not ms, s or us"),
        (
            "error_rate < 0.01",
            "invalid rule 'error_rate < 0.01': 'error_rate' is a share: write it as a percentage, e.g. error_rate < 1%"
        ),
        (
            "output_tokens_per_s > 10%",
            "invalid rule 'output_tokens_per_s > 10%': 'output_tokens_per_s' is a rate per second: write a plain "
                + "number, e.g. 10; unit '%' does not apply"
        ),
        (
            "ttft.p95: 500ms",
            "invalid rule 'ttft.p95: 500ms': a regression limit is a percentage, e.g. ttft.p95: +10%; for an "
                + "absolute bound use <, <=, > or >="
        ),
        (
            "ttft.p95=-10%",
            "invalid rule 'ttft.p95=-10%': 'ttft.p95' gets worse as it goes up: write the allowed regression as +10%"
        ),
        (
            "requests_per_s=+10%",
            "invalid rule 'requests_per_s=+10%': 'requests_per_s' gets worse as it goes down: write the allowed "
                + "regression as -10%"
        ),
        (
            "error_rate=+10%",
            "invalid rule 'error_rate=+10%': regression limits apply to latency and throughput; bound 'error_rate' "
                + "with an absolute rule, e.g. error_rate < 1%"
        ),
        ("ttft.p95=+x%", "invalid rule 'ttft.p95=+x%': expected a percentage after '=', e.g. +10%"),
    ])
    func ruleErrors(text: String, message: String) {
        do {
            let rule = try GateRule.parse(text)
            Issue.record("parsed \(rule)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func rulesFromSLOs() throws {
        let slo = [
            SLOThreshold(key: "ttft.p95", metric: .ttft, statistic: "p95", limit: 500, isUpperBound: true),
            SLOThreshold(key: "error_rate", metric: nil, statistic: nil, limit: 0.01, isUpperBound: true),
            SLOThreshold(key: "output_tokens_per_s", metric: nil, statistic: nil, limit: 100, isUpperBound: false),
            SLOThreshold(key: "goodput", metric: nil, statistic: nil, limit: 0.9, isUpperBound: false),
        ]
        let rules = try GateRule.rules(from: slo)
        #expect(
            rules.map(\.text) == [
                "ttft.p95 <= 500ms", "error_rate <= 1%", "output_tokens_per_s >= 100", "goodput >= 90%",
            ])
        for rule in rules { #expect(try GateRule.parse(rule.text) == rule) }
        let encoded = try JSONEncoder().encode(rules)
        #expect(try JSONDecoder().decode([GateRule].self, from: encoded) == rules)
    }

    /// 100 requests with TTFT 100, 101, …, 199 ms; `failures` of them failed.
    func run(ttftFrom base: Double = 100, failures: Int = 0) -> [RequestTrace] {
        (0..<100).map { i in
            SyntheticRun.trace(index: i, startMs: Double(i) * 50, ttftMs: base + Double(i), failed: i >= 100 - failures)
        }
    }

    @Test func absoluteRulesPassAndFail() throws {
        let traces = run(failures: 2)  // TTFTs 100…197 ms
        let rules = try [
            "ttft.p95 < 150ms", "ttft.p50 <= 200ms", "error_rate < 1%", "goodput >= 90%", "requests_per_s >= 2",
        ]
        .map(GateRule.parse)
        let evaluation = GateEvaluation(rules: rules, run: traces)
        #expect(!evaluation.passed)
        let results = evaluation.results
        #expect(results.map(\.passed) == [false, true, false, false, true])
        #expect(results.allSatisfy { $0.finding == .compared })
        #expect(results[0].measured.map { String(format: "%.1f", $0) } == "192.1")
        #expect(results[0].kind == .threshold(.less, limit: 150))
        #expect(results[0].subject == GateSubject(measure: .metric(.ttft), statistic: "p95"))
        #expect(results[1].measured == 148.5)
        #expect(results[2].measured == 0.02)
        // Goodput against the per-request rules: ttft < 150 ms and ≤ 200 ms: 50 of 100 requests.
        #expect(results[3].measured == 0.5)
        let window = Double(traces.map(\.endedAtNanos).max()!) / 1e9  // the first request starts at 0
        #expect(results[4].measured == 98 / window)
        let passing = GateEvaluation(rules: [try GateRule.parse("ttft.p95 < 500ms")], run: traces)
        #expect(passing.passed && passing.results[0].finding == .compared)
        let exact = GateEvaluation(rules: [try GateRule.parse("ttft.min < 100ms")], run: traces)
        #expect(!exact.passed && exact.results[0].measured == 100)
        let empty = GateEvaluation(rules: [try GateRule.parse("ttft.p95 < 500ms")], run: run(failures: 100))
        #expect(!empty.passed)
        #expect(empty.results[0].finding == .nothingToMeasure(side: nil, why: "no successful request has a ttft"))
    }

    @Test func regressionRulesNeedSizeAndSignificance() throws {
        let rule = try GateRule.parse("ttft.p95: +10%")
        let baseline = SyntheticRun.run(count: 200, ttftMs: 100, seed: 1)
        // 20% slower with 200 samples: exceeds and significant → fail.
        let slower = SyntheticRun.run(count: 200, ttftMs: 120, seed: 2)
        let failing = GateEvaluation(rules: [rule], run: slower, baseline: baseline)
        #expect(!failing.passed)
        let result = failing.results[0]
        #expect(try #require(result.relativeChange) > 0.1)
        #expect(try #require(result.pValue) < 0.05)
        #expect(result.finding == .regression(change: result.relativeChange!, exceeds: true, alpha: 0.05))
        #expect(abs(result.relativeChange! - 0.17) < 0.0005)

        // 20% slower on 6 requests each: exceeds but is not significant → pass, saying so.
        let fewBase = (0..<6).map {
            SyntheticRun.trace(index: $0, startMs: Double($0) * 50, ttftMs: [100, 130, 90, 120, 110, 140][$0])
        }
        let fewSlow = (0..<6).map {
            SyntheticRun.trace(index: $0, startMs: Double($0) * 50, ttftMs: [95, 160, 100, 150, 125, 170][$0])
        }
        let noisy = GateEvaluation(rules: [rule], run: fewSlow, baseline: fewBase)
        #expect(noisy.passed)
        let p = try #require(noisy.results[0].pValue)
        #expect(p > 0.05)
        #expect(try #require(noisy.results[0].relativeChange) > 0.1)
        #expect(abs(p - 0.336) < 0.0005 && abs(noisy.results[0].relativeChange! - 0.218) < 0.0005)
        #expect(
            noisy.results[0].finding
                == .regression(change: noisy.results[0].relativeChange!, exceeds: true, alpha: 0.05))

        // Within the limit → pass.
        let same = GateEvaluation(
            rules: [rule], run: SyntheticRun.run(count: 200, ttftMs: 100, seed: 3), baseline: baseline)
        guard case .regression(_, let exceeds, _) = same.results[0].finding else {
            Issue.record("no regression finding: \(same.results[0].finding)")
            return
        }
        #expect(same.passed && !exceeds)

        // No baseline → the rule fails and says why.
        let alone = GateEvaluation(rules: [rule], run: slower)
        #expect(!alone.passed)
        #expect(alone.results[0].finding == .needsBaseline)
        let noBaselineValue = GateEvaluation(rules: [rule], run: slower, baseline: run(failures: 100))
        #expect(
            noBaselineValue.results[0].finding
                == .nothingToMeasure(side: .baseline, why: "no successful request has a ttft"))
    }

    @Test func goodputCountsRequestsMeetingEveryPerRequestRule() throws {
        let traces = run(failures: 10)  // 90 succeed, TTFT 100…189 ms
        let rules = try ["ttft.p95 <= 149ms", "error_rate < 5%"].map(GateRule.parse)
        let counts = GateRule.goodRequests(in: traces, rules: rules)
        #expect(counts.good == 50 && counts.measured == 100)
        #expect(GateRule.goodRequests(in: traces, rules: []).good == 90)
    }
}

@Suite struct GateZeroBaselineTests {
    @Test func aChangeFromZeroIsInfiniteAndLeftOutOfTheRelativeChange() throws {
        let zero = (0..<20).map { SyntheticRun.trace(index: $0, startMs: Double($0) * 50, ttftMs: 100) }
        var withDNS = zero
        for i in withDNS.indices { withDNS[i].dnsNanos = 5_000_000 + UInt64(i) * 100_000 }
        let evaluation = GateEvaluation(rules: [try GateRule.parse("dns.p50: +10%")], run: withDNS, baseline: zero)
        #expect(!evaluation.passed)
        #expect(evaluation.results[0].relativeChange == nil)
        #expect(evaluation.results[0].finding == .regression(change: .infinity, exceeds: true, alpha: 0.05))
    }
}
