import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// The client's resident memory: it must not grow with the number of requests a run sends (every
/// trace is handed on and dropped), and many streams in flight at once must stay cheap. With
/// `LLMPERF_MEMORY=1`, also 1,000 concurrent streams, printing the RSS (with the in-process test
/// server's threads, unless `LLMPERF_MEMORY_URL` names a server in another process that answers
/// like it).
@Suite(.serialized) struct ClientMemoryTests {
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kib = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kib * 1024
        }
        return 0
    }

    /// The highest RSS seen while `body` runs (sampled every 5 ms) and at its end.
    static func peakResidentBytes(during body: () async -> Void) async -> Int {
        let peak = Peak()
        let sampler = Task {
            while !Task.isCancelled {
                peak.observe(residentBytes())
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        await body()
        sampler.cancel()
        _ = await sampler.value
        peak.observe(residentBytes())
        return peak.value
    }

    final class Peak: @unchecked Sendable {
        private let lock = NSLock()
        private var highest = 0
        func observe(_ value: Int) { lock.withLock { highest = max(highest, value) } }
        var value: Int { lock.withLock { highest } }
    }

    /// Streams `requests` requests at concurrency 16, dropping each trace after checking it.
    static func stream(_ url: String, requests: Int, events: Int) async -> (finished: Int, complete: Int) {
        let driver = LoadDriver(
            config: TestTransport.config(url), workload: WorkloadSpec(prompts: [Prompt(user: "go")], maxTokens: events),
            model: "m", load: LoadSpec(shape: .closed(concurrency: 16), stop: .requests(requests)))
        let complete = LockedCounter()
        let finished = await driver.stream { trace in
            if trace.outcome == .ok && trace.chunkAtNanos.count == events { complete.increment() }
        }
        return (finished, complete.value)
    }

    /// Each answer is 20 content events of 240 characters (the kept output text is capped at
    /// 4 KiB), so a trace held on to costs about 4.5 KB: 3,200 of them ~14 MB. After a warm-up run
    /// of 1,600 requests, a run of 3,200 must raise the peak RSS by less than 6 MiB. (The
    /// in-process test server itself keeps every request it received, about 0.8 KB each: ~2.6 MB.)
    @Test func memoryDoesNotGrowWithTheNumberOfRequests() async throws {
        let events = 20
        let piece = String(repeating: "m", count: 240)
        var body = ""
        for _ in 0..<events { body += Scripts.chatChunk(piece) }
        body += Scripts.finishChunk + "data: [DONE]\n\n"
        let stream = body
        let server = try ScriptedServer { _ in [.head(status: 200), .send(stream), .finish] }
        defer { server.stop() }
        let warm = await Self.stream(server.url, requests: 1_600, events: events)
        #expect(warm.finished == 1_600 && warm.complete == 1_600)
        let base = Self.residentBytes()
        var run = (finished: 0, complete: 0)
        let peak = await Self.peakResidentBytes {
            run = await Self.stream(server.url, requests: 3_200, events: events)
        }
        #expect(run.finished == 3_200 && run.complete == 3_200, "\(run)")
        let growth = peak - base
        #expect(growth < 6 << 20, "RSS grew \(growth >> 10) KiB over 3,200 requests (base \(base >> 20) MiB)")
    }

    @Test func manyConcurrentStreams() async throws {
        let full = ProcessInfo.processInfo.environment["LLMPERF_MEMORY"] == "1"
        let streams = full ? 1000 : 50
        let token = String(repeating: "w", count: 24)
        let server = try ScriptedServer { _ in
            var steps: [ScriptStep] = [.head(status: 200)]
            for _ in 0..<10 {
                var burst = ""
                for _ in 0..<30 { burst += Scripts.chatChunk(token) }
                steps.append(.send(burst))
                steps.append(.sleep(milliseconds: 60))
            }
            steps += [.send(Scripts.finishChunk), .send("data: [DONE]\n\n"), .finish]
            return steps
        }
        defer { server.stop() }
        // LLMPERF_MEMORY_URL: measure against a server in another process (client RSS alone).
        let url = ProcessInfo.processInfo.environment["LLMPERF_MEMORY_URL"] ?? server.url
        let workload = WorkloadSpec(prompts: [Prompt(user: "go")], maxTokens: 300)
        let driver = LoadDriver(
            config: TestTransport.config(url, timeouts: Timeouts(connect: .seconds(10), total: .seconds(30))),
            workload: workload, model: "m",
            load: LoadSpec(shape: .closed(concurrency: streams), stop: .requests(streams)))
        let before = Self.residentBytes()
        var traces: [RequestTrace] = []
        let peak = await Self.peakResidentBytes { traces = await driver.run() }
        #expect(traces.count == streams)
        #expect(traces.allSatisfy { $0.outcome == .ok && $0.chunkAtNanos.count == 300 })
        #expect(traces.allSatisfy { $0.outputText.utf8.count <= ResponseAccumulator.textCapBytes })
        if url == server.url {
            // All streams were open at once (the server held each for ~600 ms).
            #expect(server.maxConcurrentRequests == streams)
        }
        // Each stream in flight (its transfer, buffers and trace, and the test server's thread)
        // costs well under 1 MiB.
        #expect(peak - before < streams << 20, "peak \(peak >> 20) MiB, before \(before >> 20) MiB")
        if full {
            let scope = url == server.url ? "in-process test server included" : "client only"
            print("RSS with \(streams) streams: before \(before >> 20) MiB, peak \(peak >> 20) MiB (\(scope))")
        }
    }
}
