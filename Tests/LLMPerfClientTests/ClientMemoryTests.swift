import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// Resident memory with many streams in flight at once. A small run always; with
/// `LLMPERF_MEMORY=1` 1,000 concurrent streams, printing the process RSS before and while they
/// stream (with the in-process test server's threads, unless `LLMPERF_MEMORY_URL` names a
/// server in another process that answers like it).
@Suite struct ClientMemoryTests {
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kib = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kib * 1024
        }
        return 0
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
        let run = Task { await driver.run() }
        var peak = 0
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(25))
            peak = max(peak, Self.residentBytes())
        }
        let traces = await run.value
        #expect(traces.count == streams)
        #expect(traces.allSatisfy { $0.outcome == .ok && $0.chunkAtNanos.count == 300 })
        #expect(traces.allSatisfy { $0.outputText.utf8.count <= ResponseAccumulator.textCapBytes })
        if full {
            let scope = url == server.url ? "in-process test server included" : "client only"
            print("RSS with \(streams) streams: before \(before >> 20) MiB, peak \(peak >> 20) MiB (\(scope))")
        }
    }
}
