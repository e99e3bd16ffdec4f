import Foundation
import Testing

@testable import LLMPerfCore

/// The sweep's pure logic: which point is the capacity and what bound it, the capacity search's next
/// load, slo rules over intervals, the client's bottleneck, sweep references and capacity rules.
@Suite struct SweepAnalysisTests {
    static let record = SweepRecord(
        batchID: "b1", name: "chat", over: .concurrency, search: .findCapacity,
        startedAt: Date(timeIntervalSince1970: 0))

    static func check(_ met: Bool) -> SLOIntervalCheck {
        SLOIntervalCheck(rules: [
            .init(rule: "tpot.p50 <= 40ms", verdict: met ? .met : .missed, estimate: met ? 30 : 50, worstBound: nil)
        ])
    }

    /// A server of known capacity: TPOT = 10 + 5·c ms and throughput c / (0.02 + 8·TPOT) requests/s up
    /// to `slots` requests generating at once, flat past them.
    static func point(_ load: Double, slots: Double = 1000, tpotLimit: Double = 42, client: ClientLoad? = nil)
        -> SweepPoint
    {
        let running = min(load, slots)
        let tpot = 10 + 5 * running
        let rate = running / (0.020 + 8 * tpot / 1000)
        let slo = SLOIntervalCheck(rules: [
            .init(
                rule: "tpot.p50 <= \(Int(tpotLimit))ms", verdict: tpot <= tpotLimit ? .met : .missed, estimate: tpot,
                worstBound: tpot)
        ])
        return SweepPoint(
            load: load, variant: "c\(Int(load))", runID: "r\(Int(load))", requestsPerSecond: rate, slo: slo,
            clientLoad: client)
    }

    /// Runs the search against `measure`, returning the loads in the order measured and the result.
    static func search(_ search: CapacitySearch, _ measure: (Double) -> SweepPoint) -> (
        [Double], SweepResult, CapacitySearch.Stop
    ) {
        var points: [SweepPoint] = []
        var loads: [Double] = []
        while true {
            let result = SweepResult(record: record, points: points)
            switch search.next(after: result) {
            case .measure(let load):
                #expect(!loads.contains(load), "measured \(load) twice")
                loads.append(load)
                points.append(measure(load))
                if loads.count > 100 { Issue.record("the search does not end"); return (loads, result, .resolved) }
            case .stop(let reason):
                return (loads, result, reason)
            }
        }
    }

    @Test func theCapacityIsTheHighestGoodLoadBelowTheFirstBadOne() {
        let points = [1.0, 2, 4, 8].map { load in
            SweepPoint(
                load: load, variant: "c\(Int(load))", runID: "r", requestsPerSecond: load,
                slo: Self.check(load != 4))
        }
        // Measured out of order (a search's bisection): the result is in load order.
        let result = SweepResult(record: Self.record, points: points.reversed())
        #expect(result.points.map(\.load) == [1, 2, 4, 8])
        #expect(result.capacity?.load == 2 && result.firstBad?.load == 4 && result.binding == .slo)
        #expect(result.bindingReasons == ["tpot.p50 <= 40ms"])
        #expect(result.capacityValue("concurrency") == 2 && result.capacityValue("requests_per_s") == 2)
        #expect(result.capacityValue("rate") == nil)
        let none = SweepResult(record: Self.record, points: [points[2]])
        #expect(none.capacity == nil && none.firstBad?.load == 4)
        let all = SweepResult(record: Self.record, points: [points[0], points[1]])
        #expect(all.capacity?.load == 2 && all.firstBad == nil && all.binding == .none)
    }

    @Test func saturationNeedsFivePercentMorePerDoublingAndLessForASmallerStep() {
        #expect(abs(SweepResult.leastGrowth(loadRatio: 2) - 1.05) < 1e-12)
        #expect(abs(SweepResult.leastGrowth(loadRatio: 4) - 1.1025) < 1e-12)
        let flat = [1.0, 2, 3, 4].map { load in
            SweepPoint(load: load, variant: "c\(Int(load))", runID: "r", requestsPerSecond: min(load, 2) * 10)
        }
        let result = SweepResult(record: Self.record, points: flat)
        #expect(result.points.map(\.saturated) == [false, false, true, true])
        #expect(result.capacity?.load == 2 && result.knee?.load == 2 && result.binding == .saturation)
        // 3% more for 1.25 times the load is enough (1.25^log2(1.05) = 1.0158); 1% is not.
        let small = [8.0, 10].map { SweepPoint(load: $0, variant: "c", runID: "r", requestsPerSecond: 100) }
        var grown = small
        grown[1].requestsPerSecond = 103
        #expect(SweepResult(record: Self.record, points: grown).points[1].saturated == false)
        grown[1].requestsPerSecond = 101
        #expect(SweepResult(record: Self.record, points: grown).points[1].saturated == true)
        // Output tokens/s decide when both points generated: requests/s over a short window are coarse.
        var tokens = small
        (tokens[0].outputTokensPerSecond, tokens[1].outputTokensPerSecond) = (1000, 1100)
        tokens[1].requestsPerSecond = 90
        #expect(SweepResult(record: Self.record, points: tokens).points[1].saturated == false)
        tokens[1].outputTokensPerSecond = 1010
        tokens[1].requestsPerSecond = 120
        #expect(SweepResult(record: Self.record, points: tokens).points[1].saturated == true)
        // A bisection's neighbours (c96, c97) differ by less than their noise: each is judged against the
        // highest point at least a quarter lower (c64), where a measured 0.04% is no evidence either way.
        let near = [(64.0, 2723.0), (96, 2886), (97, 2887)].map { load, tokens in
            SweepPoint(
                load: load, variant: "c\(Int(load))", runID: "r", requestsPerSecond: 1, outputTokensPerSecond: tokens)
        }
        #expect(SweepResult(record: Self.record, points: near).points.map(\.saturated) == [false, false, false])
    }

    @Test func theSearchFindsAKnownSLOCapacityWithinTheBoundOfPoints() {
        // TPOT = 10 + 5c: the limit 42 ms holds up to c6.
        let search = CapacitySearch(over: .concurrency, minimum: 1, maximum: 256, resolution: .absolute(1))
        let (loads, result, stop) = Self.search(search) { Self.point($0) }
        #expect(loads == [1, 2, 4, 8, 6, 7])
        #expect(result.capacity?.load == 6 && result.firstBad?.load == 7 && stop == .resolved)
        #expect(Double(loads.count) <= 2 * log2(256) + 3)
        // Every capacity from 1 to 255 is found exactly, within the bound.
        for capacity in 1...255 {
            let (loads, result, _) = Self.search(search) { load in
                SweepPoint(
                    load: load, variant: "c\(Int(load))", runID: "r", requestsPerSecond: load,
                    slo: Self.check(load <= Double(capacity)))
            }
            #expect(result.capacity?.load == Double(capacity), "capacity \(capacity): \(loads)")
            #expect(Double(loads.count) <= 2 * log2(256) + 3, "capacity \(capacity): \(loads)")
        }
    }

    @Test func theSearchStopsAtSaturationAtTheMaximumAndWhenEvenTheMinimumIsBad() {
        let search = CapacitySearch(over: .concurrency, minimum: 1, maximum: 64, resolution: .absolute(1))
        // Two slots and a lenient slo: throughput is flat past c2.
        let (loads, result, stop) = Self.search(search) { Self.point($0, slots: 2, tpotLimit: 1000) }
        #expect(loads == [1, 2, 4, 3] && result.capacity?.load == 2 && result.binding == .saturation)
        #expect(stop == .resolved)
        let linear = { (load: Double) in
            SweepPoint(load: load, variant: "c\(Int(load))", runID: "r", requestsPerSecond: load, slo: Self.check(true))
        }
        let (all, top, reached) = Self.search(search, linear)
        #expect(all == [1, 2, 4, 8, 16, 32, 64] && top.capacity?.load == 64 && reached == .maximumReached)
        let (first, _, bad) = Self.search(search) { Self.point($0, tpotLimit: 5) }
        #expect(first == [1] && bad == .minimumBad)
        // A maximum that is not a power of two is measured itself.
        let odd = CapacitySearch(over: .concurrency, minimum: 3, maximum: 20, resolution: .absolute(2))
        #expect(Self.search(odd, linear).0 == [3, 6, 12, 20])
    }

    @Test func aRateSearchBisectsToFivePercent() throws {
        let search = CapacitySearch(over: .rate, minimum: 1, maximum: 200, resolution: .relative(0.05))
        let (loads, result, stop) = Self.search(search) { rate in
            SweepPoint(
                load: rate, variant: SweepOver.rate.variant(rate), runID: "r", requestsPerSecond: rate,
                slo: Self.check(rate <= 37.3))
        }
        let capacity = try #require(result.capacity?.load)
        let bad = try #require(result.firstBad?.load)
        #expect(capacity <= 37.3 && bad > 37.3 && bad - capacity <= 0.05 * capacity && stop == .resolved, "\(loads)")
        #expect(Double(loads.count) <= 2 * log2(200) + 3, "\(loads)")
        #expect(SweepOver.rate.variant(2.5) == "r2.50" && SweepOver.rate.load(ofVariant: "r2.50") == 2.5)
        #expect(
            SweepOver.concurrency.load(ofVariant: "r2") == nil && SweepOver.concurrency.load(ofVariant: "c0") == nil)
    }

    @Test func aClientBottleneckStopsTheSearchInsteadOfBlamingTheServer() {
        let busy = ClientLoad(cpuSeconds: 9.5, wallSeconds: 10, lagP50Milliseconds: 0.1, lagP99Milliseconds: 0.4)
        let lagging = ClientLoad(cpuSeconds: 1, wallSeconds: 10, lagP50Milliseconds: 3, lagP99Milliseconds: 12.5)
        let calm = ClientLoad(cpuSeconds: 5, wallSeconds: 10, lagP50Milliseconds: 0.1, lagP99Milliseconds: 4.9)
        #expect(busy.bottleneckReasons() == ["client CPU 95% of a core"])
        #expect(lagging.bottleneckReasons() == ["client schedule lag p99 12.5 ms"])
        #expect(calm.bottleneckReasons().isEmpty)
        #expect(calm.bottleneckReasons(sendLagP99: 7) == ["requests sent late, p99 7 ms"])
        let search = CapacitySearch(over: .concurrency, minimum: 1, maximum: 256, resolution: .absolute(1))
        let (loads, result, stop) = Self.search(search) { load in
            Self.point(load, client: load >= 4 ? busy : calm)
        }
        #expect(loads == [1, 2, 4] && stop == .clientBound)
        #expect(result.capacity?.load == 2 && result.binding == .client)
        #expect(result.bindingReasons == ["client CPU 95% of a core"])
    }

    @Test func anSLORuleIsMetOnlyOverItsWholeInterval() throws {
        // 200 requests with TTFT 100..299 ms (one each): p50 = 199.5, its interval about ±14 ms.
        let traces = (0..<200).map { i in
            RequestTrace(
                index: i, startedAtNanos: 0, firstByteNanos: UInt64(100 + i) * 1_000_000,
                chunkAtNanos: [UInt64(100 + i) * 1_000_000], chunkTokens: [1],
                endedAtNanos: UInt64(100 + i) * 1_000_000 + 1)
        }
        func verdict(_ text: String) throws -> SLOIntervalCheck.Verdict {
            let check = SLOIntervalCheck(rules: [try GateRule.parse(text)], traces: traces)
            return check.rules[0].verdict
        }
        #expect(try verdict("ttft.p50 <= 250ms") == .met)
        #expect(try verdict("ttft.p50 <= 200ms") == .unsure)
        #expect(try verdict("ttft.p50 <= 190ms") == .missed)
        // The mean 199.5 ms, its standard error 57.7/√200 = 4.1 ms.
        #expect(try verdict("ttft.mean <= 210ms") == .met)
        #expect(try verdict("ttft.mean <= 205ms") == .unsure)
        #expect(try verdict("ttft.max <= 299ms") == .met)
        #expect(try verdict("error_rate < 1%") == .met)
        let check = SLOIntervalCheck(rules: [try! GateRule.parse("ttft.p50 <= 200ms")], traces: traces)
        let bound = try #require(check.rules[0].worstBound)
        #expect(
            bound > 200 && bound < 220
                && check.brokenRules[0].hasPrefix("ttft.p50 <= 200ms (unsure: its 95% interval reaches"))
        // 4 failures in 200: 2% ± 1.94%, so 'error_rate < 5%' holds over it and '< 3%' does not.
        var failing = traces
        for i in 0..<4 { failing[i].outcome = .failed(.http(status: 500), detail: "") }
        #expect(SLOIntervalCheck(rules: [try! GateRule.parse("error_rate < 5%")], traces: failing).met)
        #expect(
            SLOIntervalCheck(rules: [try! GateRule.parse("error_rate < 3%")], traces: failing).rules[0].verdict
                == .unsure)
    }

    @Test func sweepReferencesNameTheNewestTheOneBeforeOrAnID() throws {
        func record(_ id: String, _ name: String, _ t: Double) -> SweepRecord {
            SweepRecord(
                batchID: id, name: name, over: .concurrency, search: .points, startedAt: Date(timeIntervalSince1970: t))
        }
        let records = [record("b00aa11", "chat", 1), record("b00bb22", "chat", 2), record("b00cc33", "rag", 3)]
        #expect(try SweepReference.parse("sweep:chat@latest").resolve(in: records).batchID == "b00bb22")
        #expect(try SweepReference.parse("sweep:chat").resolve(in: records).batchID == "b00bb22")
        #expect(try SweepReference.parse("sweep:chat~1").resolve(in: records).batchID == "b00aa11")
        #expect(try SweepReference.parse("sweep:b00cc").resolve(in: records).name == "rag")
        #expect(SweepReference.isSweep(" sweep:chat") && !SweepReference.isSweep("chat@latest"))
        let errors: [(String, String)] = [
            ("sweep:chat~2", "'chat' has 2 sweeps"),
            ("sweep:caht", "did you mean 'sweep:chat'?"),
            ("sweep:b00", "ambiguous"),
            ("sweep:", "expected a scenario name"),
            ("sweep:chat@first", "only '@latest'"),
            ("sweep:chat~x", "expected a number after '~'"),
        ]
        for (text, message) in errors {
            do {
                _ = try SweepReference.parse(text).resolve(in: records)
                Issue.record("\(text) resolved")
            } catch {
                #expect(error.message.contains(message), "\(text): \(error.message)")
            }
        }
    }

    @Test func capacityRulesPassFailAndRefuseWhatTheyCannotJudge() throws {
        let good = SweepPoint(load: 8, variant: "c8", runID: "r", requestsPerSecond: 12.5, outputTokensPerSecond: 400)
        let result = SweepResult(record: Self.record, points: [good])
        #expect(try CapacityRule.parse("capacity.requests_per_s >= 12").evaluate(result).passed)
        #expect(try !CapacityRule.parse("capacity.requests_per_s >= 13 req/s").evaluate(result).passed)
        #expect(try CapacityRule.parse("capacity.concurrency >= 8").evaluate(result).passed)
        let rate = try CapacityRule.parse("capacity.rate >= 1").evaluate(result)
        #expect(!rate.passed && rate.reason?.contains("does not apply to a sweep over concurrency") == true)
        let empty = try CapacityRule.parse("capacity.concurrency >= 1").evaluate(
            SweepResult(record: Self.record, points: []))
        #expect(!empty.passed && empty.reason == "the sweep has no completed point")
        let busy = ClientLoad(cpuSeconds: 10, wallSeconds: 10, lagP50Milliseconds: nil, lagP99Milliseconds: nil)
        var bound = good
        bound.load = 16
        bound.clientLoad = busy
        bound.clientBottleneck = busy.bottleneckReasons()
        let clientBound = SweepResult(record: Self.record, points: [good, bound])
        let judged = try CapacityRule.parse("capacity.concurrency >= 4").evaluate(clientBound)
        #expect(!judged.passed && judged.reason?.contains("client was the bottleneck") == true)
        for (text, message) in [
            ("capacity.rps >= 1", "unknown capacity value 'rps'"),
            ("capacity.requests_per_s ~ 1", "expected an operator"),
            ("capacity.requests_per_s >= many", "expected a number"),
            ("ttft.p50 < 1s", "a sweep is gated on its capacity"),
        ] {
            #expect(throws: GateRuleError.self) { try CapacityRule.parse(text) }
            do { _ = try CapacityRule.parse(text) } catch { #expect(error.description.contains(message), "\(error)") }
        }
    }
}

/// The steady-state window: the ramp-up and the drain left out, exactly.
@Suite struct SteadyStateWindowTests {
    static func trace(_ index: Int, _ start: UInt64, _ end: UInt64, warmup: Bool = false) -> RequestTrace {
        RequestTrace(index: index, isWarmup: warmup, startedAtNanos: start, endedAtNanos: end)
    }

    @Test func aClosedLoopStartsWhenTheFirstWaveHasEndedAndEndsAtTheLastSend() throws {
        // Concurrency 2, each request 10 long, the two workers out of step after the first wave:
        // worker A: 0–10, 10–20, 20–30, 30–40; worker B: 0–12, 12–22, 22–32.
        let traces = [
            Self.trace(0, 0, 10), Self.trace(1, 0, 12), Self.trace(2, 10, 20), Self.trace(3, 12, 22),
            Self.trace(4, 20, 30), Self.trace(5, 22, 32), Self.trace(6, 30, 40),
        ]
        let window = try #require(SteadyStateWindow.of(traces, shape: .closed(concurrency: 2)))
        // From the end of the first wave (12) to the last send (30): requests 3 (12–22) and 4 (20–30).
        #expect(window == SteadyStateWindow(fromNanos: 12, toNanos: 30))
        #expect(window.measured(traces).map(\.index) == [3, 4])
        // A warmup request finds the window but is never counted in it.
        var warm = traces
        warm[3].isWarmup = true
        #expect(SteadyStateWindow.of(warm, shape: .closed(concurrency: 2))?.measured(warm).map(\.index) == [4])
        // One wave only, or nothing inside: no window.
        #expect(SteadyStateWindow.of(Array(traces.prefix(2)), shape: .closed(concurrency: 2)) == nil)
        #expect(SteadyStateWindow.of(Array(traces.prefix(4)), shape: .closed(concurrency: 2)) == nil)
    }

    @Test func anOpenLoopStartsOneMedianLatencyInAndEndsAtTheLastArrival() throws {
        // Arrivals every 10, each request 25 long: latency median 25, last arrival at 90.
        let traces = (0..<10).map { Self.trace($0, UInt64($0) * 10, UInt64($0) * 10 + 25) }
        let window = try #require(
            SteadyStateWindow.of(traces, shape: .open(ratePerSecond: 100, arrival: .constant, maxConcurrency: nil)))
        #expect(window == SteadyStateWindow(fromNanos: 25, toNanos: 90))
        // Sent at 30..60 and ended by 90.
        #expect(window.measured(traces).map(\.index) == [3, 4, 5, 6])
        #expect(abs(window.seconds - 65e-9) < 1e-15)
        // Its throughput is the window's: the 6 requests that ended in (25, 90] over 65 ns, not the 4
        // counted for latency over their own span.
        let summary = window.summary(of: traces)
        #expect(summary.requests == 4 && abs(summary.requestsPerSecond - 6 / 65e-9) < 1)
    }
}
