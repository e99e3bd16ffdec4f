import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

@Suite(.serialized) struct FailureAndInterruptTests {
    /// A port nothing listens on: every request fails as `connect`, the run still completes
    /// and stores them all.
    @Test func connectionRefusedIsRecordedPerRequest() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let port = try ClosedPort.find()
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: refused
            target: { url: "http://127.0.0.1:\(port)/v1", model: m, timeouts: { connect: 2s } }
            workload: { prompts: ["hi"], max_tokens: 4 }
            load: { concurrency: 2, requests: 6 }
            """)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("connect ×6"))
        let store = try RunStore(path: ws.database)
        let traces = try store.traces(runID: try #require(try store.listRuns().first).id)
        #expect(traces.count == 6)
        #expect(traces.allSatisfy { $0.outcome.failureKind == .connect })
    }

    /// Ctrl-C: stop sending, keep everything measured, mark the run interrupted, exit 130.
    @Test func interruptStoresWhatWasMeasuredAndExits130() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml",
            RunCommandTests.scenario(name: "long", ttftMs: 5, itlMs: 5, tokens: 10, requests: 100_000, warmup: 0))
        let running = try LLMPerfProcess.start(["run", path, "--db", ws.database, "--quiet"])
        // Wait until the run is measuring (the backend is up and requests are being stored).
        let deadline = Date().addingTimeInterval(60)
        var stored = 0
        while Date() < deadline && stored < 20 {
            Thread.sleep(forTimeInterval: 0.2)
            if let store = try? RunStore(path: ws.database), let run = try? store.listRuns().first {
                stored = (try? store.requestCount(runID: run.id)) ?? 0
            }
        }
        #expect(stored >= 20)
        running.interrupt()
        let result = try running.wait(timeout: 30)
        #expect(result.status == 130, "\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        #expect(run.status == .interrupted)
        let traces = try store.traces(runID: run.id)
        #expect(traces.count >= stored)
        #expect(traces.filter(\.succeeded).count >= 20)
    }
}

/// A loopback port with no listener: bind an ephemeral port, note it, close it.
enum ClosedPort {
    static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
