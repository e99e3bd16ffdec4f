import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `llmperf run` keeps nothing per request in memory: its peak RSS with 4x the requests stays
/// within a few percent of the smaller run's (it grew by about 2.3 KB a request when every trace
/// was kept to the end), and the summary it prints equals the one computed from the stored rows.
@Suite(.serialized) struct RunMemoryTests {
    static func scenario(url: String, requests: Int) -> String {
        """
        version: 1
        name: memory
        target:
          url: \(url)/v1
          model: synthetic
        workload:
          prompts: ["Go."]
          max_tokens: 16
        load:
          concurrency: 64
          requests: \(requests)
          warmup: 0
        """
    }

    #if os(Linux)
        @Test func peakMemoryDoesNotGrowWithTheNumberOfRequests() throws {
            let server = try SyntheticServer.start()
            defer { server.stop() }
            let ws = try Workspace()
            defer { ws.remove() }
            var peaks: [Int: Int] = [:]
            for requests in [5000, 20_000] {
                let path = try ws.write("s\(requests).yml", Self.scenario(url: server.baseURL, requests: requests))
                let database = ws.root.appendingPathComponent("runs-\(requests).sqlite").path
                let (status, peak) = try Self.peakResidentKiB(
                    LLMPerfProcess.binary, ["run", path, "--db", database, "--quiet", "--json"], in: ws.root)
                #expect(status == 0)
                peaks[requests] = peak
                let store = try RunStore(path: database)
                let run = try #require(try store.listRuns().first)
                let traces = try store.traces(runID: run.id, outputTextLimit: 0)
                #expect(traces.count == requests)
                #expect(traces.allSatisfy { $0.succeeded })
            }
            let small = try #require(peaks[5000])
            let large = try #require(peaks[20_000])
            // Keeping the 15,000 extra traces (16 tokens each) adds about 20 MB to a peak of about
            // 50 MB (x1.38 with the build that kept them); without them: x1.04 (debug build), x1.07
            // (release; flat at 52-53 MB from 20,000 to 1,000,000 requests under /usr/bin/time).
            let ratio = Double(large) / Double(small)
            #expect(ratio < 1.2, "peak RSS \(small) KiB at 5,000 requests, \(large) KiB at 20,000 (x\(ratio))")
            print("peak RSS: \(small) KiB at 5,000 requests, \(large) KiB at 20,000 (x\(ratio))")
        }

        /// Runs the executable to its end (at most `timeout`) and returns its exit status and
        /// its own peak resident set (VmHWM, KiB, read every 10 ms while it runs): the process alone.
        static func peakResidentKiB(
            _ binary: String, _ arguments: [String], in directory: URL, timeout: TimeInterval = 180
        ) throws -> (Int32, Int) {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            let out = directory.appendingPathComponent("stdout-\(UUID().uuidString)").path
            let err = directory.appendingPathComponent("stderr-\(UUID().uuidString)").path
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            let argv = ([binary] + arguments).map { strdup($0) } + [nil]
            defer { for pointer in argv { free(pointer) } }
            let inherited = ProcessInfo.processInfo.environment
            var environment = ["NO_COLOR": "1"]
            for key in ["PATH", "HOME", "TMPDIR"] { environment[key] = inherited[key] }
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for pointer in envp { free(pointer) } }
            // As a shell would start it: no signal blocked or ignored (a test thread blocks them).
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            var all = sigset_t()
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &all)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, binary, &actions, &attributes, argv, envp)
            guard spawned == 0 else { throw SpawnFailed(code: spawned) }
            // Not wait4's ru_maxrss: posix_spawn starts the child in this process's memory
            // (vfork), and the kernel counts that memory's high-water mark into the child's at
            // exec. VmHWM belongs to the executable's own memory from exec on; it only rises.
            let deadline = Date().addingTimeInterval(timeout)
            var status: Int32 = 0
            var peak = 0
            while waitpid(pid, &status, WNOHANG) == 0 {
                peak = Swift.max(peak, Self.highWaterKiB(pid) ?? 0)
                if Date() > deadline {
                    kill(pid, SIGKILL)
                    _ = waitpid(pid, &status, 0)
                    throw SpawnFailed(code: -1)
                }
                Thread.sleep(forTimeInterval: 0.01)
            }
            let exited = status & 0x7f == 0
            let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            if code != 0 {
                let text = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
                Issue.record("llmperf \(arguments.joined(separator: " ")) exited \(code): \(text)")
            }
            return (code, peak)
        }

        /// VmHWM of a running process, KiB.
        static func highWaterKiB(_ pid: pid_t) -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            }
            return nil
        }

        struct SpawnFailed: Error, CustomStringConvertible {
            var code: Int32
            var description: String { code < 0 ? "llmperf did not finish in time" : "posix_spawn failed: \(code)" }
        }
    #endif

    /// The summary `llmperf run --json` prints (read back from the database in passes) is the
    /// one computed from all the stored traces at once, value for value.
    @Test func printedSummaryEqualsTheOneFromTheStoredTraces() throws {
        let server = try SyntheticServer.start()
        defer { server.stop() }
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("s.yml", Self.scenario(url: server.baseURL, requests: 6000))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        let fromArray = RunSummary(traces: try store.traces(runID: run.id, outputTextLimit: 0))
        let streamed = try RunSummary { visit in try store.forEachTrace(runID: run.id, outputTextLimit: 0, visit) }
        #expect(streamed == fromArray)
        // What was printed: the same numbers, through the same JSON encoding.
        let printed = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let metrics = try #require(printed["metrics"] as? [String: Any], "\(result.stdout.prefix(600))")
        #expect(metrics.count == fromArray.metrics.count)
        for (metric, summary) in fromArray.metrics {
            let shown = try #require(metrics[metric.rawValue] as? [String: Any], "\(metric)")
            let expected = try #require(
                try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any])
            for name in DistributionSummary.statisticNames + ["count"] {
                #expect((shown[name] as? Double) == (expected[name] as? Double), "\(metric) \(name)")
            }
        }
        #expect((printed["requests"] as? Int) == fromArray.requests)
    }
}
