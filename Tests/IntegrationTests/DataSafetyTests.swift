import Foundation
import GRDB
import LLMPerfCore
import Testing

@testable import LLMPerfStore

/// Nothing measured is lost or silently dropped, checked through the built executable against
/// the bundled synthetic backend: a database that refuses writes, a run killed with `kill -9`,
/// unreadable SLO rules, a backend that does not start in time.
@Suite(.serialized) struct DataSafetyTests {
    /// Installs a trigger that makes SQLite refuse every request row from `index` on.
    static func refuseRequests(from index: Int, in database: String) throws {
        let store = try RunStore(path: database)
        try store.pool.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse_requests BEFORE INSERT ON requests WHEN NEW.idx >= \(index)
                    BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;
                    """)
        }
    }

    /// A write that fails twice stops the run: exit 1 with the cause, status `failed`, every
    /// row committed before kept.
    @Test func aFailedWriteStopsTheRunAsFailedAndKeepsWhatWasStored() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        try Self.refuseRequests(from: 20, in: ws.database)
        let requests = 400
        let path = try ws.write(
            "s.yml",
            RunCommandTests.scenario(
                name: "refused", ttftMs: 20, itlMs: 5, tokens: 4, concurrency: 1, requests: requests, warmup: 0))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"], timeout: 120)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("injected write failure"), "\(result.stderr)")
        #expect(result.stderr.contains("tried twice"), "\(result.stderr)")

        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        #expect(run.status == .failed)
        #expect(run.endedAt != nil)
        let stored = try store.traces(runID: run.id).map(\.index)
        #expect(!stored.isEmpty)
        #expect(stored == Array(0..<stored.count))
        #expect(stored.count <= 20)
        // The run stopped sending once the writer gave up: far fewer than all were measured.
        let unstored = try #require(Self.number(before: " were not stored", in: result.stderr))
        #expect(stored.count + unstored < requests, "\(result.stderr)")
    }

    /// `kill -9` mid-run: the next open of the database finds the run's process gone and marks
    /// it `interrupted`; every request stored before the kill is there.
    @Test func aRunKilledWithSIGKILLIsInterruptedOnTheNextOpen() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml",
            RunCommandTests.scenario(name: "killed", ttftMs: 5, itlMs: 5, tokens: 10, requests: 100_000, warmup: 0))
        let running = try LLMPerfProcess.start(["run", path, "--db", ws.database, "--quiet"])
        let pid = running.process.processIdentifier
        let deadline = Date().addingTimeInterval(60)
        var stored = 0
        var runID: String?
        while Date() < deadline && stored < 20 && running.process.isRunning {
            Thread.sleep(forTimeInterval: 0.2)
            if let store = try? RunStore(path: ws.database), let run = try? store.listRuns().first {
                runID = run.id
                stored = (try? store.requestCount(runID: run.id)) ?? 0
            }
        }
        #expect(stored >= 20, "\(running.stderrSoFar)")
        let backends = Self.children(of: pid)
        kill(pid, SIGKILL)
        running.process.waitUntilExit()
        #expect(running.process.terminationReason == .uncaughtSignal)
        // The local backend notices its parent is gone and stops by itself.
        #expect(!backends.isEmpty)
        let stopDeadline = Date().addingTimeInterval(30)
        while Date() < stopDeadline && backends.contains(where: Self.isAlive) { Thread.sleep(forTimeInterval: 0.1) }
        let survivors = backends.filter(Self.isAlive)
        for child in survivors { kill(child, SIGKILL) }
        #expect(survivors.isEmpty, "backend \(survivors) outlived its killed parent")

        let list = try LLMPerfProcess.run(["runs", "list", "--db", ws.database])
        #expect(list.status == 0, "\(list.stderr)")
        let line = try #require(list.stdout.split(separator: "\n").first { $0.contains(runID ?? "none") })
        #expect(line.contains("interrupted"), "\(list.stdout)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.run(id: runID ?? ""))
        #expect(run.status == .interrupted)
        let traces = try store.traces(runID: run.id)
        #expect(traces.count >= stored)
        #expect(traces.map(\.index) == Array(0..<traces.count))
    }

    /// Stored SLO rules that cannot be read make `gate` fail (exit 1) with the reason, never
    /// pass with the rules left out.
    @Test func unreadableSLORulesFailTheGate() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml",
            RunCommandTests.scenario(
                name: "slo", ttftMs: 5, itlMs: 2, tokens: 4, requests: 4, warmup: 0,
                extra: "slo: { ttft.p95: 30s, error_rate: 0% }"))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        let passing = try LLMPerfProcess.run(["gate", run.id, "--db", ws.database])
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")

        try store.pool.write { db in
            try db.execute(sql: "UPDATE runs SET slo_json = '[{\"metric\": 7' WHERE id = ?", arguments: [run.id])
        }
        let gate = try LLMPerfProcess.run(["gate", run.id, "--db", ws.database])
        #expect(gate.status == 1, "\(gate.stdout)\(gate.stderr)")
        #expect(gate.stderr.contains("slo rules cannot be read"), "\(gate.stderr)")
        #expect(!gate.stdout.contains("gate passed"))
        // Leaving the slo out on purpose still works, with the rules given.
        let explicit = try LLMPerfProcess.run([
            "gate", run.id, "--db", ws.database, "--no-slo", "--rule", "error_rate < 1%",
        ])
        #expect(explicit.status == 0, "\(explicit.stdout)\(explicit.stderr)")
    }

    /// One deadline covers the local backend's whole start, the wait for its address included:
    /// a backend that hangs before it listens (here: opening its trace file, a FIFO nobody
    /// reads, blocks) is stopped when the deadline passes, and the run fails with a clear message.
    @Test func aBackendThatHangsBeforeListeningIsStoppedAtTheDeadline() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let fifo = ws.root.appendingPathComponent("trace.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let path = try ws.write(
            "s.yml",
            RunCommandTests.scenario(name: "hung-start", requests: 4, warmup: 0)
                .replacingOccurrences(of: "options: { ", with: "options: { trace-file: \"\(fifo)\", "))
        let result = try LLMPerfProcess.run(
            ["run", path, "--db", ws.database, "--quiet"], environment: ["LLMPERF_BACKEND_START_TIMEOUT": "2s"],
            timeout: 60)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("did not report its address within 2.0 seconds"), "\(result.stderr)")
        #expect(result.stderr.contains("it was stopped"), "\(result.stderr)")
        let pid = try #require(Self.number(after: "pid ", in: result.stderr))
        #expect(kill(Int32(pid), 0) == -1 && errno == ESRCH, "backend pid \(pid) is still alive")
        let store = try RunStore(path: ws.database)
        #expect(try store.listRuns().first?.status == .failed)

        let bad = try LLMPerfProcess.run(
            ["run", path, "--db", ws.database, "--quiet"], environment: ["LLMPERF_BACKEND_START_TIMEOUT": "soon"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("LLMPERF_BACKEND_START_TIMEOUT"), "\(bad.stderr)")
    }

    // MARK: helpers

    /// The pids whose parent is `pid` (from /proc).
    /// Alive and not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return false }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        return text[text.index(after: close)...].split(separator: " ").first != "Z"
    }

    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let data = FileManager.default.contents(atPath: "/proc/\(child)/stat") else { return false }
            let text = String(decoding: data, as: UTF8.self)
            guard let close = text.lastIndex(of: ")") else { return false }
            let fields = text[text.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    /// The integer right before `marker` in `text`.
    static func number(before marker: String, in text: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return Int(String(digits.reversed()))
    }

    /// The integer right after `marker` in `text`.
    static func number(after marker: String, in text: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        return Int(String(text[range.upperBound...].prefix { $0.isNumber }))
    }
}
