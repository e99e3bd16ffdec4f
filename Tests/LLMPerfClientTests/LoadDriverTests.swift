import LLMPerfClient
import LLMPerfCore
import Testing

@Suite struct LoadDriverTests {
    private func driver(
        _ server: ScriptedServer, load: LoadSpec, prompts: [String] = ["a", "b", "c"], grace: Duration = .seconds(2),
        timeouts: Timeouts = Timeouts(), requestIDPrefix: String? = nil
    ) -> LoadDriver {
        let workload = WorkloadSpec(prompts: prompts.map { Prompt(user: $0) }, maxTokens: 8)
        return LoadDriver(
            config: TestTransport.config(server.url, timeouts: timeouts), workload: workload, model: "m", load: load,
            cancelGrace: grace, requestIDPrefix: requestIDPrefix)
    }

    @Test func requestIDHeaderCarriesTheIndex() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 1) }
        defer { server.stop() }
        let d = driver(
            server, load: LoadSpec(shape: .closed(concurrency: 1), stop: .requests(3)), requestIDPrefix: "run7")
        _ = await d.run()
        #expect(server.receivedRequests.map { $0.headers["x-request-id"] } == ["run7-0", "run7-1", "run7-2"])
    }

    @Test func closedLoopRespectsConcurrencyAndFlagsWarmup() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 3, gapMs: 5) }
        defer { server.stop() }
        let seen = LockedCounter()
        let d = driver(server, load: LoadSpec(shape: .closed(concurrency: 3), stop: .requests(12), warmup: 2))
        let traces = await d.run { _ in seen.increment() }
        #expect(traces.count == 14)
        #expect(seen.value == 14)
        #expect(traces.map(\.index) == Array(0..<14))
        #expect(traces.filter(\.isWarmup).map(\.index) == [0, 1])
        #expect(traces.allSatisfy { $0.outcome == .ok && $0.chunkAtNanos.count == 3 })
        #expect(traces.map(\.promptIndex) == (0..<14).map { $0 % 3 })
        #expect(traces.allSatisfy { $0.scheduledAtNanos == nil })
        #expect(server.maxConcurrentRequests <= 3)
        #expect(server.maxConcurrentRequests >= 2)
        // Warmup ran before any measured request started.
        let warmupEnd = traces.filter(\.isWarmup).map(\.endedAtNanos).max()!
        #expect(traces.filter { !$0.isWarmup }.allSatisfy { $0.startedAtNanos >= warmupEnd })
        // Prompts as sent.
        let users = server.receivedRequests.map { $0.bodyText.contains("\"content\":\"a\"") }
        #expect(users.filter { $0 }.count == 5)
    }

    @Test func failuresAreRecordedWhileTheRunContinues() async throws {
        let server = try ScriptedServer { request in
            switch request.bodyText {
            case let b where b.contains("\"notfound\""):
                return [
                    .head(status: 404, contentType: "text/plain", chunked: false, extra: ["Content-Length: 4"]),
                    .raw("nope"),
                ]
            case let b where b.contains("\"cut\""):
                return [.head(status: 200), .send(Scripts.chatChunk("x")), .cut]
            default: return Scripts.chatStream(tokens: 2)
            }
        }
        defer { server.stop() }
        let d = driver(
            server, load: LoadSpec(shape: .closed(concurrency: 2), stop: .requests(6)),
            prompts: ["ok", "notfound", "cut"])
        let traces = await d.run()
        #expect(traces.count == 6)
        #expect(
            traces.map(\.outcome.failureKind) == [
                nil, .http(status: 404), .streamCut, nil, .http(status: 404), .streamCut,
            ])
    }

    @Test func openLoopSendsOnSchedule() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 1) }
        defer { server.stop() }
        // 50 req/s constant: one every 20 ms.
        let d = driver(
            server,
            load: LoadSpec(
                shape: .open(ratePerSecond: 50, arrival: .constant, maxConcurrency: nil), stop: .requests(8), warmup: 1)
        )
        let traces = await d.run()
        #expect(traces.count == 9)
        #expect(traces.first?.isWarmup == true)
        let scheduled = traces.compactMap(\.scheduledAtNanos)
        #expect(scheduled.count == 9)
        let gaps = zip(scheduled.dropFirst(), scheduled).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 == 20_000_000 })
        // Never sent before its time (a late send shows as started − scheduled, not an error).
        #expect(traces.allSatisfy { $0.startedAtNanos >= $0.scheduledAtNanos! })
        #expect(traces.last!.startedAtNanos - traces.first!.scheduledAtNanos! >= 160_000_000)
        #expect(server.requestCount == 9)
    }

    @Test func openLoopWaitsForAFreeSlot() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 2, gapMs: 30) }
        defer { server.stop() }
        // 200 req/s but at most 2 in flight; each takes ≥ 60 ms, so most wait.
        let d = driver(
            server,
            load: LoadSpec(shape: .open(ratePerSecond: 200, arrival: .poisson, maxConcurrency: 2), stop: .requests(6)))
        let traces = await d.run()
        #expect(traces.count == 6)
        #expect(server.maxConcurrentRequests <= 2)
        let queued = traces.filter { $0.startedAtNanos - $0.scheduledAtNanos! > 20_000_000 }
        #expect(queued.count >= 2)
    }

    @Test func openLoopDurationStop() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 1) }
        defer { server.stop() }
        // Constant 100 req/s for 100 ms after 2 warmup requests: offsets 20…110 ms are measured.
        let d = driver(
            server,
            load: LoadSpec(
                shape: .open(ratePerSecond: 100, arrival: .constant, maxConcurrency: nil),
                stop: .duration(.milliseconds(100)), warmup: 2))
        let traces = await d.run()
        #expect(traces.count == 12)
        #expect(traces.filter(\.isWarmup).count == 2)
    }

    @Test func durationStop() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 1, gapMs: 10) }
        defer { server.stop() }
        let d = driver(server, load: LoadSpec(shape: .closed(concurrency: 2), stop: .duration(.milliseconds(150))))
        let traces = await d.run()
        #expect(traces.count >= 2)
        // The property under test is that nothing is sent once the duration has passed: every
        // request started within the 150 ms window (plus generous room for a loaded machine
        // between the driver's decision and the handle reaching libcurl), measured on the run's
        // own clock rather than against a wall-time budget for the whole test.
        let firstStart = try #require(traces.map(\.startedAtNanos).min())
        let lastStart = try #require(traces.map(\.startedAtNanos).max())
        #expect(lastStart - firstStart < 150_000_000 + 1_000_000_000)
        #expect(traces.allSatisfy { $0.outcome == .ok })
    }

    @Test func stopCancelsInFlightAfterGraceKeepingTokens() async throws {
        let server = try ScriptedServer { _ in [.head(status: 200), .send(Scripts.chatChunk("a")), .stall] }
        defer { server.stop() }
        let d = driver(
            server, load: LoadSpec(shape: .closed(concurrency: 3), stop: .requests(100)), grace: .milliseconds(100))
        let task = Task { await d.run() }
        for _ in 0..<2000 where server.requestCount < 3 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(server.requestCount == 3)
        // Long enough that even a loaded machine has read each stream's token before the stop.
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        let traces = await task.value
        #expect(traces.count == 3)
        #expect(traces.allSatisfy { $0.outcome.failureKind == .cancelled && $0.chunkAtNanos.count == 1 })
    }

    @Test func stopLetsFastRequestsFinishWithinGrace() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 3, gapMs: 20) }
        defer { server.stop() }
        let d = driver(server, load: LoadSpec(shape: .closed(concurrency: 2), stop: .requests(100)), grace: .seconds(5))
        let task = Task { await d.run() }
        for _ in 0..<400 where server.requestCount < 2 { try await Task.sleep(for: .milliseconds(5)) }
        d.stop()
        let traces = await task.value
        #expect(traces.count >= 2 && traces.count < 10)
        #expect(traces.allSatisfy { $0.outcome == .ok })
    }
}
