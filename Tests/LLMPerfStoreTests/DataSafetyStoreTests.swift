import Foundation
import GRDB
import LLMPerfCore
import Testing

@testable import LLMPerfStore

/// Nothing measured is lost or silently dropped: write failures on a real SQLite file, runs
/// whose process died, duplicate requests, unreadable stored values.
@Suite struct DataSafetyStoreTests {
    /// A fresh database in its own folder, removed by `cleanUp`.
    final class TemporaryStore {
        let folder: URL
        let path: String
        let store: RunStore

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "llmperf-safety-\(UUID().uuidString)")
            path = folder.appendingPathComponent("llmperf.sqlite").path
            store = try RunStore(path: path)
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        func execute(_ sql: String) throws {
            try store.pool.write { db in try db.execute(sql: sql) }
        }

        func insertRun(id: String, status: RunStatus = .running, owner: RunOwner? = .current) throws {
            try store.insertRun(
                RunInfo(id: id, name: "safety", batchID: "b1", status: status, startedAt: Date()), owner: owner)
        }
    }

    static func trace(_ index: Int, text: String = "ok") -> RequestTrace {
        var trace = RunStoreTests.sampleTrace(index: index)
        trace.outputText = text
        return trace
    }

    /// Waits (bounded) until `condition` holds; the writer stores on its own queue.
    static func waitUntil(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return try condition()
    }

    @Test func aBatchThatFailsOnceIsRetriedAndStored() throws {
        let db = try TemporaryStore()
        try db.insertRun(id: "r000001")
        // The first insert attempt raises inside SQLite; the retry goes through.
        let failures = Counter(remaining: 1)
        // A pool has one writer connection: the function lives on it, where the trigger runs.
        try db.store.pool.writeWithoutTransaction { connection in
            connection.add(
                function: DatabaseFunction("llmperf_test_fail", argumentCount: 0, pure: false) { _ in
                    failures.take()
                })
        }
        try db.execute(
            """
            CREATE TRIGGER fail_once BEFORE INSERT ON requests WHEN llmperf_test_fail()
            BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;
            """)
        let writer = RequestWriter(store: db.store, runID: "r000001", batchSize: 4, retryDelay: 0)
        let traces = (0..<4).map { Self.trace($0) }
        for trace in traces { writer.append(trace) }
        #expect(try writer.finish() == 4)
        #expect(writer.failed == nil)
        #expect(failures.calls >= 2)
        #expect(try db.store.traces(runID: "r000001") == traces)
    }

    @Test func aBatchThatFailsTwiceStopsTheWriterAndKeepsEverythingStoredBefore() throws {
        let db = try TemporaryStore()
        try db.insertRun(id: "r000001")
        try db.execute(
            """
            CREATE TRIGGER disk_full BEFORE INSERT ON requests WHEN NEW.idx >= 4
            BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;
            """)
        let writer = RequestWriter(store: db.store, runID: "r000001", batchSize: 2, retryDelay: 0)
        let handlerCalls = Counter(remaining: 0)
        writer.onFailure { _ in _ = handlerCalls.take() }
        let first = (0..<4).map { Self.trace($0) }
        for trace in first { writer.append(trace) }
        #expect(try Self.waitUntil { try db.store.requestCount(runID: "r000001") == 4 })
        for index in 4..<10 { writer.append(Self.trace(index)) }
        #expect(Self.waitUntil { writer.failed != nil })
        #expect(throws: RequestWriterError.self) { try writer.finish() }
        do {
            try writer.finish()
        } catch {
            #expect(error.cause.contains("injected write failure"))
            #expect(error.stored == 4 && error.unstored == 6)
            #expect(error.description.contains("tried twice"))
        }
        #expect(handlerCalls.calls == 1)
        // Everything committed before the failure is still there, unchanged.
        #expect(try db.store.traces(runID: "r000001") == first)
    }

    @Test func aStoredRequestIsNeverOverwritten() throws {
        let db = try TemporaryStore()
        try db.insertRun(id: "r000001")
        try db.store.insertRequests([Self.trace(0, text: "first"), Self.trace(1, text: "first")], runID: "r000001")
        #expect(throws: (any Error).self) {
            try db.store.insertRequests(
                [Self.trace(2, text: "second"), Self.trace(1, text: "second")], runID: "r000001")
        }
        let stored = try db.store.traces(runID: "r000001")
        #expect(stored.map(\.index) == [0, 1])
        #expect(stored.map(\.outputText) == ["first", "first"])
    }

    @Test func aRunningRunWhoseProcessIsGoneIsInterruptedOnTheNextOpen() throws {
        let db = try TemporaryStore()
        let host = RunOwner.currentHost
        let me = RunOwner.current
        let deadPID = try Self.pidOfAFinishedProcess()
        try db.insertRun(id: "r000001", owner: RunOwner(host: host, pid: deadPID, startTicks: nil))
        try db.insertRun(id: "r000002", owner: me)
        // Same pid as this live process, but another start time: the pid was reused.
        try db.insertRun(
            id: "r000003", owner: RunOwner(host: host, pid: me.pid, startTicks: me.startTicks.map { $0 + 1 } ?? 1))
        try db.insertRun(id: "r000004", owner: RunOwner(host: host + "-elsewhere", pid: deadPID, startTicks: nil))
        try db.insertRun(id: "r000005", owner: nil)
        try db.insertRun(id: "r000006", status: .completed, owner: RunOwner(host: host, pid: deadPID, startTicks: nil))
        try db.store.insertRequests([Self.trace(0), Self.trace(1)], runID: "r000001")

        let reopened = try RunStore(path: db.path)
        let status = Dictionary(uniqueKeysWithValues: try reopened.listRuns().map { ($0.id, $0.status) })
        #expect(status["r000001"] == .interrupted)
        #expect(status["r000002"] == .running)
        #expect(me.startTicks == nil || status["r000003"] == .interrupted)
        #expect(status["r000004"] == .running)
        #expect(status["r000005"] == .running)
        #expect(status["r000006"] == .completed)
        #expect(try reopened.requestCount(runID: "r000001") == 2)
        #expect(try reopened.markAbandonedRuns().isEmpty)
    }

    @Test func procStatIsParsedPastTheCommandName() throws {
        let line = "4242 (odd) name (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"
        let status = try #require(RunOwner.parseStat(line))
        #expect(status.state == "S")
        #expect(status.startTicks == 987_654)
        #expect(RunOwner.parseStat("garbage") == nil)
        let me = try #require(RunOwner.processStatus(getpid()))
        #expect(me.state == "R" || me.state == "S")
        #expect(me.startTicks != nil)
    }

    @Test func anUnknownStatusIsAnErrorNotFailed() throws {
        let db = try TemporaryStore()
        try db.insertRun(id: "r000001", status: .completed)
        try db.execute("UPDATE runs SET status = 'paused' WHERE id = 'r000001'")
        #expect(
            throws: StoreError.corrupt(
                "run r000001 has the unknown status 'paused' (known: running, completed, interrupted, failed)")
        ) {
            try db.store.listRuns()
        }
        #expect(throws: StoreError.self) { try db.store.run(id: "r000001") }
    }

    @Test func unreadableSLORulesAreReportedNotDropped() throws {
        let db = try TemporaryStore()
        try db.insertRun(id: "r000001", status: .completed)
        #expect(try db.store.run(id: "r000001")?.sloProblem == nil)
        try db.execute("UPDATE runs SET slo_json = '[{\"metric\": 7' WHERE id = 'r000001'")
        let run = try #require(try db.store.run(id: "r000001"))
        #expect(run.slo.isEmpty)
        let problem = try #require(run.sloProblem)
        #expect(problem.contains("slo rules cannot be read"))
    }

    /// The pid of a child that has exited and been reaped.
    static func pidOfAFinishedProcess() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exit 0"]
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}

/// A thread-safe call counter that answers "fail" while `remaining` lasts.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private var count = 0

    init(remaining: Int) { self.remaining = remaining }

    func take() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        guard remaining > 0 else { return false }
        remaining -= 1
        return true
    }

    var calls: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
