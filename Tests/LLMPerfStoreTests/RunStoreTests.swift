import Foundation
import GRDB
import LLMPerfCore
import Testing

@testable import LLMPerfStore

@Suite struct RunStoreTests {
    static func temporaryDatabase() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-store-\(UUID().uuidString)")
        return dir.appendingPathComponent("nested/llmperf.sqlite").path
    }

    static func sampleTrace(index: Int, warmup: Bool = false) -> RequestTrace {
        RequestTrace(
            index: index, isWarmup: warmup, promptIndex: index % 3, scheduledAtNanos: 1_000 * UInt64(index),
            startedAtNanos: 5_000 + 1_000 * UInt64(index), dnsNanos: 10, connectNanos: 200, tlsNanos: 0,
            sentNanos: 250, firstByteNanos: 40_000, chunkAtNanos: [60_000, 61_500, 70_000_000, 70_000_001],
            chunkTokens: [1, 1, 3, 1], chunkReasoning: index == 3 ? [true, true, false, false] : [],
            endedAtNanos: 80_000_000,
            usage: TokenUsage(
                promptTokens: 12, completionTokens: 6, cachedTokens: nil, reasoningTokens: index == 3 ? 2 : nil),
            outcome: index == 2 ? .failed(.http(status: 500), detail: "{\"error\":\"boom\"}") : .ok,
            connection: ConnectionInfo(reused: index > 0, httpVersion: "1.1", remoteAddress: "127.0.0.1:8080"),
            httpStatus: index == 2 ? 500 : 200, outputText: "héllo <b>\(index)</b>",
            serverTimings: index == 1
                ? ServerTimings(
                    promptNanos: 12_500_000, generationNanos: 40_250_123, loadNanos: 0, draftTokens: 6,
                    draftAcceptedTokens: 2) : nil)
    }

    /// Several openers of one new database at once (a run starting while `runs list` reads): every one of them
    /// opens it, and the schema ends complete. Without `RunStore.openPool`'s second try one of them fails: on the
    /// switch to WAL ("database is locked") or on a migration the other applied first ("duplicate column name").
    @Test func openersRacingOnANewDatabaseAllOpenIt() throws {
        for _ in 0..<12 {
            let path = Self.temporaryDatabase()
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            let failures = OpenFailures()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    _ = try RunStore(path: path)
                } catch {
                    failures.append("\(error)")
                }
            }
            #expect(failures.values.isEmpty, "\(failures.values)")
            let store = try RunStore(path: path)
            #expect(try store.pool.read { try StoreSchema.migrator.hasCompletedMigrations($0) })
        }
    }

    @Test func chunkTimesRoundTripCompactly() throws {
        let times: [UInt64] = [100, 101, 300, 1 << 40, (1 << 40) + 5]
        let blob = ChunkTimeCodec.encode(times, from: 90)
        #expect(blob.count == 1 + 1 + 2 + 6 + 1)
        #expect(try ChunkTimeCodec.decode(blob, from: 90, count: 5) == times)
        #expect(ChunkTimeCodec.encodeTokens([1, 1, 1]) == nil)
        #expect(try ChunkTimeCodec.decodeTokens(nil, count: 2) == [1, 1])
        let tokens: [UInt32] = [1, 300, 2]
        #expect(try ChunkTimeCodec.decodeTokens(ChunkTimeCodec.encodeTokens(tokens), count: 3) == tokens)
        #expect(throws: StoreError.corrupt("chunk time blob holds 5 values, expected 4")) {
            try ChunkTimeCodec.decode(blob, from: 90, count: 4)
        }
    }

    @Test func reasoningFlagsRoundTripAndBadBlobsAreCorrupt() throws {
        #expect(ChunkTimeCodec.encodeReasoning([false, false]) == nil)
        #expect(ChunkTimeCodec.encodeReasoning([]) == nil)
        let flags = [true, true, false]
        #expect(ChunkTimeCodec.encodeReasoning(flags) == [1, 1, 0])
        #expect(try ChunkTimeCodec.decodeReasoning([1, 1, 0], count: 3) == flags)
        #expect(throws: StoreError.corrupt("chunk reasoning blob holds 2 flags, expected 3")) {
            try ChunkTimeCodec.decodeReasoning([1, 0], count: 3)
        }
        #expect(throws: StoreError.corrupt("chunk reasoning flag other than 0 or 1")) {
            try ChunkTimeCodec.decodeReasoning([1, 2], count: 2)
        }
    }

    /// A database written before reasoning was recorded opens, gains the columns, and its
    /// requests read back with no reasoning; new requests keep theirs.
    @Test func aDatabaseFromBeforeReasoningMigrates() throws {
        let path = Self.temporaryDatabase()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let old = try DatabaseQueue(path: path)
            try StoreSchema.migrator.migrate(old, upTo: "v3: timing known")
            try old.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO runs (id, name, batch_id, status, scenario_yaml, scenario_hash, scenario_path,
                            target_url, api, model, load_description, prompt_set_hash, slo_json, tool_version, host,
                            started_at)
                        VALUES ('r000001', 'old', 'b', 'completed', '', '', '', '', 'openai-chat', 'm', '', '', '[]',
                            '0', 'h', 0);
                        INSERT INTO requests (run_id, idx, is_warmup, prompt_index, started_at_ns, dns_ns, connect_ns,
                            tls_ns, sent_ns, ended_at_ns, chunk_count, chunk_times, completion_tokens, output_tokens,
                            token_source, outcome, error_detail, http_status, connection_reused, http_version,
                            remote_address, output_text)
                        VALUES ('r000001', 0, 0, 0, 0, 0, 0, 0, 0, 9, 1, x'05', 1, 1, 'usage', 'ok', '', 200, 0, '',
                            '', 'a');
                        """)
            }
        }
        let store = try RunStore(path: path)
        let old = try store.traces(runID: "r000001")
        #expect(old.count == 1 && old[0].chunkReasoning.isEmpty && old[0].usage?.reasoningTokens == nil)
        #expect(old[0].serverTimings == nil)
        #expect(old[0].chunkAtNanos == [5] && Metric.ttfa.value(of: old[0]) == 5e-6)
        try store.insertRequests([Self.sampleTrace(index: 3), Self.sampleTrace(index: 1)], runID: "r000001")
        #expect(try store.traces(runID: "r000001")[1] == Self.sampleTrace(index: 1))
        #expect(try store.traces(runID: "r000001")[2] == Self.sampleTrace(index: 3))
    }

    @Test func runsAndRequestsRoundTripThroughARealFile() throws {
        let path = Self.temporaryDatabase()
        let store = try RunStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        let id = try store.newRunID()
        #expect(id.count == 7 && id.hasPrefix("r"))
        let started = Date(timeIntervalSince1970: 1_700_000_000)
        let info = RunInfo(
            id: id, name: "chat", variant: "short", batchID: "b1", labels: ["pr-1", "main"],
            scenarioYAML: "version: 1\n", scenarioHash: "abc", scenarioPath: "s.yml", targetURL: "http://x",
            api: "openai-chat", model: "m", loadDescription: "closed c=2", maxTokens: 32, promptSetHash: "p",
            host: "h", gitCommit: nil, startedAt: started)
        try store.insertRun(info)
        let writer = RequestWriter(store: store, runID: id, batchSize: 2)
        let traces = (0..<5).map { Self.sampleTrace(index: $0, warmup: $0 == 0) }
        for trace in traces { writer.append(trace) }
        #expect(try writer.finish() == 5)
        try store.finishRun(id: id, status: .completed, endedAt: started.addingTimeInterval(3))

        // A second connection to the same file sees everything.
        let reopened = try RunStore(path: path)
        #expect(try reopened.traces(runID: id) == traces)
        let loaded = try #require(try reopened.run(id: id))
        #expect(loaded.status == .completed)
        #expect(loaded.labels == ["main", "pr-1"])
        #expect(loaded.endedAt == started.addingTimeInterval(3))
        #expect(loaded.variant == "short" && loaded.maxTokens == 32)
    }

    /// A session turn whose answer the run's tokenizer counted (no usage): its session, turn, history
    /// and the tokenizer's count come back as stored, and a count from the chunks stays one.
    @Test func sessionTurnsAndTokenizerCountsRoundTrip() throws {
        let store = try RunStore(path: Self.temporaryDatabase())
        let info = RunInfo(
            id: "r000009", name: "s", variant: nil, batchID: "b", labels: [], scenarioYAML: "", scenarioHash: "h",
            scenarioPath: "s.yml", targetURL: "http://x", api: "openai-chat", model: "m", loadDescription: "",
            maxTokens: nil, promptSetHash: "p", host: "h", gitCommit: nil, startedAt: Date())
        try store.insertRun(info)
        let counted = RequestTrace(
            index: 0, startedAtNanos: 0, chunkAtNanos: [10, 20], chunkTokens: [5, 4], endedAtNanos: 30,
            outputText: "an answer", session: SessionTurn(session: 3, turn: 2), historyTokens: 41,
            tokenizerOutputTokens: 9)
        let chunks = RequestTrace(
            index: 1, startedAtNanos: 0, chunkAtNanos: [10, 20], chunkTokens: [1, 1], endedAtNanos: 30)
        try store.insertRequests([counted, chunks], runID: info.id)
        let back = try store.traces(runID: info.id)
        #expect(back == [counted, chunks])
        #expect(back[0].outputTokenSource == .tokenizer && back[0].outputTokens == 9)
        #expect(back[1].outputTokenSource == .chunks && back[1].tokenizerOutputTokens == nil)
    }

    @Test func listFiltersLabelsAndDeleteCascades() throws {
        let store = try RunStore(path: Self.temporaryDatabase())
        for (i, name) in ["a", "b", "a"].enumerated() {
            try store.insertRun(
                RunInfo(
                    id: "r00000\(i)", name: name, batchID: "b\(i)",
                    status: i == 1 ? .interrupted : .completed,
                    startedAt: Date(timeIntervalSince1970: 1_000 + Double(i) * 100)))
            try store.insertRequests([Self.sampleTrace(index: 0), Self.sampleTrace(index: 1)], runID: "r00000\(i)")
        }
        #expect(try store.listRuns().map(\.id) == ["r000002", "r000001", "r000000"])
        #expect(try store.listRuns(RunFilter(name: "a")).map(\.id) == ["r000002", "r000000"])
        #expect(try store.listRuns(RunFilter(status: .interrupted)).map(\.id) == ["r000001"])
        #expect(try store.listRuns(RunFilter(since: Date(timeIntervalSince1970: 1_150))).map(\.id) == ["r000002"])
        try store.addLabels(["main"], to: "r000000")
        #expect(try store.listRuns(RunFilter(label: "main")).map(\.id) == ["r000000"])
        try store.removeLabels(["main"], from: "r000000")
        #expect(try store.listRuns(RunFilter(label: "main")).isEmpty)
        #expect(try store.deleteRun(id: "r000000") == 2)
        #expect(try store.requestCount(runID: "r000000") == 0)
        #expect(try store.run(id: "r000000") == nil)
        #expect(try store.listRuns().count == 2)
    }

    @Test func unopenableDatabaseIsAClearError() {
        #expect(throws: StoreError.self) { try RunStore(path: "/proc/llmperf/cannot/llmperf.sqlite") }
    }
}

/// Errors collected from concurrent openers.
final class OpenFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ value: String) { lock.withLock { stored.append(value) } }
    var values: [String] { lock.withLock { stored } }
}
