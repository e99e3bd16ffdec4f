import Foundation
import GRDB
import LLMPerfCore

/// The run history: one SQLite file (WAL mode) holding runs, their labels and every request.
public final class RunStore: Sendable {
    public let path: String
    let pool: DatabasePool

    /// The database path: `--db`, else `$LLMPERF_DB`, else `./.llmperf/llmperf.sqlite`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["LLMPERF_DB"], !path.isEmpty { return path }
        return ".llmperf/llmperf.sqlite"
    }

    /// Opens (creating when missing, with its folder) and migrates the database, then marks
    /// `interrupted` every `running` run whose process on this host is gone.
    public init(path: String) throws(StoreError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        do {
            if !folder.isEmpty {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(10)
            pool = try Self.openPool(path: path, configuration: configuration)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        do {
            try markAbandonedRuns()
        } catch {
            throw .cannotOpen(path: path, reason: "cannot mark runs whose process is gone: \(error)")
        }
    }

    /// Opens and migrates the database. Another process opening the same new database at the same moment
    /// (a run starting while `llmperf runs list` reads it) makes this fail for a moment: SQLite refuses the
    /// switch to WAL while the other holds the file ("database is locked"), and GRDB, which reads the applied
    /// migrations before it runs each in its own transaction, can run one the other has just applied
    /// ("duplicate column"; rolled back). Both pass: it tries again, up to six times, after a short pause.
    static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        var attempts = 0
        while true {
            do {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try StoreSchema.migrator.migrate(pool)
                return pool
            } catch {
                attempts += 1
                if attempts >= 6 { throw error }
                Thread.sleep(forTimeInterval: 0.01 * Double(attempts))
            }
        }
    }

    /// Marks `interrupted` each `running` run whose owning process (on this host) has ended;
    /// returns their ids. Runs of other hosts, and runs stored without an owner, are left alone.
    @discardableResult
    public func markAbandonedRuns(host: String = RunOwner.currentHost) throws -> [String] {
        let candidates = try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, owner_host, owner_pid, owner_start_ticks FROM runs
                    WHERE status = 'running' AND owner_host = ? AND owner_pid IS NOT NULL
                    """, arguments: [host])
        }
        var gone: [String] = []
        for row in candidates {
            let ticks: Int64? = row["owner_start_ticks"]
            let owner = RunOwner(
                host: row["owner_host"], pid: Int32(truncatingIfNeeded: row["owner_pid"] as Int64),
                startTicks: ticks.map { UInt64(bitPattern: $0) })
            if owner.isGone(onHost: host) { gone.append(row["id"]) }
        }
        guard !gone.isEmpty else { return [] }
        try pool.write { db in
            for id in gone {
                // Only if still `running`: the owner may have finished it since it was read.
                try db.execute(
                    sql: "UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'", arguments: [id])
            }
        }
        return gone
    }

    // MARK: runs

    /// Stores a run. A `running` run records `owner` (this process unless told otherwise), so
    /// that it is marked `interrupted` on a later open once that process is gone.
    public func insertRun(_ run: RunInfo, owner: RunOwner? = .current) throws {
        let owner = run.status == .running ? owner : nil
        try pool.write { db in try Self.insertRunRow(db, run, owner: owner) }
    }

    static func insertRunRow(_ db: Database, _ run: RunInfo, owner: RunOwner?) throws {
        try db.execute(
            sql: """
                INSERT INTO runs (id, name, variant, batch_id, status, scenario_yaml, scenario_hash,
                    scenario_path, target_url, api, model, load_description, max_tokens, prompt_set_hash,
                    slo_json, tool_version, host, git_commit, started_at, ended_at,
                    owner_host, owner_pid, owner_start_ticks)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                run.id, run.name, run.variant, run.batchID, run.status.rawValue, run.scenarioYAML,
                run.scenarioHash, run.scenarioPath, run.targetURL, run.api, run.model, run.loadDescription,
                run.maxTokens, run.promptSetHash, try Self.encodeSLO(run.slo), run.toolVersion, run.host,
                run.gitCommit,
                run.startedAt.timeIntervalSince1970, run.endedAt?.timeIntervalSince1970,
                owner?.host, owner.map { Int64($0.pid) }, owner?.startTicks.map { Int64(bitPattern: $0) },
            ])
        if let stamp = run.shard {
            try db.execute(
                sql: """
                    UPDATE runs SET shard_index = ?, shard_count = ?, clock_offset_start_ns = ?,
                        clock_uncertainty_start_ns = ?, clock_offset_end_ns = ?, clock_uncertainty_end_ns = ?,
                        origin_wall_ns = ?, start_at_ns = ?
                    WHERE id = ?
                    """,
                arguments: [
                    stamp.shard.index, stamp.shard.count, stamp.startClock.offsetNanos,
                    stamp.startClock.uncertaintyNanos, stamp.endClock?.offsetNanos, stamp.endClock?.uncertaintyNanos,
                    stamp.originWallNanos, stamp.startAtWallNanos, run.id,
                ])
        }
        if let merged = run.mergedFrom?.count {
            try db.execute(sql: "UPDATE runs SET merged_shards = ? WHERE id = ?", arguments: [merged, run.id])
        }
        for label in run.labels {
            try db.execute(
                sql: "INSERT OR IGNORE INTO run_labels (run_id, label) VALUES (?, ?)", arguments: [run.id, label])
        }
    }

    /// Sets a run's final status and end time.
    public func finishRun(id: String, status: RunStatus, endedAt: Date, targetURL: String? = nil) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, ended_at = ?, target_url = COALESCE(?, target_url) WHERE id = ?",
                arguments: [status.rawValue, endedAt.timeIntervalSince1970, targetURL, id])
        }
    }

    /// Stores how hard the client worked while the run's requests ran.
    public func recordClientLoad(id: String, _ load: ClientLoad) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE runs SET client_cpu_s = ?, client_wall_s = ?, client_lag_p50_ms = ?, client_lag_p99_ms = ?
                    WHERE id = ?
                    """,
                arguments: [load.cpuSeconds, load.wallSeconds, load.lagP50Milliseconds, load.lagP99Milliseconds, id])
        }
    }

    /// Stores a shard's clock offset as read at the end of its run, and stamps its requests with its shard.
    public func recordShardEnd(id: String, endClock: ClockOffset) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET clock_offset_end_ns = ?, clock_uncertainty_end_ns = ? WHERE id = ?",
                arguments: [endClock.offsetNanos, endClock.uncertaintyNanos, id])
            try db.execute(
                sql: "UPDATE requests SET shard = (SELECT shard_index FROM runs WHERE id = ?) WHERE run_id = ?",
                arguments: [id, id])
        }
    }

    /// Stores the steady-state window a run's statistics are taken over.
    public func recordSteadyWindow(id: String, _ window: SteadyStateWindow) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET steady_from_ns = ?, steady_to_ns = ? WHERE id = ?",
                arguments: [Int64(window.fromNanos), Int64(window.toNanos), id])
        }
    }

    /// A fresh short run id (`r` and six hex digits) not yet in the database.
    public func newRunID() throws -> String {
        try pool.read { db in
            while true {
                let id = "r" + String(format: "%06x", UInt32.random(in: 0..<0x100_0000))
                let taken = try Bool.fetchOne(
                    db, sql: "SELECT EXISTS(SELECT 1 FROM runs WHERE id = ?)", arguments: [id])
                if taken != true { return id }
            }
        }
    }

    /// Runs newest first, filtered.
    public func listRuns(_ filter: RunFilter = RunFilter()) throws -> [RunInfo] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let name = filter.name {
            clauses.append("name = ?")
            arguments += [name]
        }
        if let label = filter.label {
            clauses.append("id IN (SELECT run_id FROM run_labels WHERE label = ?)")
            arguments += [label]
        }
        if let since = filter.since {
            clauses.append("started_at >= ?")
            arguments += [since.timeIntervalSince1970]
        }
        if let status = filter.status {
            clauses.append("status = ?")
            arguments += [status.rawValue]
        }
        if let batch = filter.batchID {
            clauses.append("batch_id = ?")
            arguments += [batch]
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let limitSQL = filter.limit.map { " LIMIT \($0)" } ?? ""
        return try pool.read { db in
            let labels = try Self.labelsByRun(db)
            let shards = try Self.shardsByRun(db)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM runs \(whereSQL) ORDER BY started_at DESC, rowid DESC\(limitSQL)",
                arguments: arguments
            ).map { try Self.runInfo(from: $0, labels: labels, shards: shards) }
        }
    }

    public func run(id: String) throws -> RunInfo? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                return nil
            }
            return try Self.runInfo(from: row, labels: try Self.labelsByRun(db), shards: try Self.shardsByRun(db))
        }
    }

    public func addLabels(_ labels: [String], to runID: String) throws {
        try pool.write { db in
            for label in labels {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO run_labels (run_id, label) VALUES (?, ?)", arguments: [runID, label])
            }
        }
    }

    public func removeLabels(_ labels: [String], from runID: String) throws {
        try pool.write { db in
            for label in labels {
                try db.execute(sql: "DELETE FROM run_labels WHERE run_id = ? AND label = ?", arguments: [runID, label])
            }
        }
    }

    /// Deletes a run with its labels and requests; returns the number of requests removed.
    @discardableResult
    public func deleteRun(id: String) throws -> Int {
        try pool.write { db in
            let count =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM requests WHERE run_id = ?", arguments: [id]) ?? 0
            try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [id])
            return count
        }
    }

    // MARK: requests

    /// Inserts traces in one transaction: all or none. A request already stored under the same
    /// index is an error (never overwritten), and nothing of the batch is stored then.
    public func insertRequests(_ traces: [RequestTrace], runID: String) throws {
        guard !traces.isEmpty else { return }
        try pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO requests (run_id, idx, is_warmup, prompt_index, scheduled_at_ns,
                        started_at_ns, dns_ns, connect_ns, tls_ns, sent_ns, first_byte_ns, ended_at_ns,
                        chunk_count, chunk_times, chunk_tokens, prompt_tokens, completion_tokens, cached_tokens,
                        output_tokens, token_source, outcome, error_detail, http_status, connection_reused,
                        http_version, remote_address, output_text, timing_known, chunk_reasoning, reasoning_tokens,
                        server_prompt_ns, server_generation_ns, server_total_ns, server_load_ns, server_draft_tokens,
                        server_draft_accepted_tokens, server_queue_ns, server_preprocess_ns, server_postprocess_ns,
                        server_cached_tokens, server_batch_size, session_id, turn_index, history_tokens)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                        ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for t in traces {
                let times = ChunkTimeCodec.encode(t.chunkAtNanos, from: t.startedAtNanos)
                let tokens = ChunkTimeCodec.encodeTokens(t.chunkTokens)
                let values: [(any DatabaseValueConvertible)?] = [
                    runID, t.index, t.isWarmup, t.promptIndex, t.scheduledAtNanos.map(Int64.init),
                    Int64(t.startedAtNanos), Int64(t.dnsNanos), Int64(t.connectNanos), Int64(t.tlsNanos),
                    Int64(t.sentNanos), t.firstByteNanos.map(Int64.init), Int64(t.endedAtNanos),
                    t.chunkAtNanos.count, Data(times), tokens.map { Data($0) }, t.usage?.promptTokens,
                    t.usage?.completionTokens, t.usage?.cachedTokens, t.outputTokens,
                    t.outputTokenSource.rawValue, t.outcome.failureKind?.code ?? "ok", t.outcome.detail,
                    t.httpStatus, t.connection.reused, t.connection.httpVersion, t.connection.remoteAddress,
                    t.outputText, t.timingKnown, ChunkTimeCodec.encodeReasoning(t.chunkReasoning).map { Data($0) },
                    t.usage?.reasoningTokens, Self.storedNanos(t.serverTimings?.promptNanos),
                    Self.storedNanos(t.serverTimings?.generationNanos), Self.storedNanos(t.serverTimings?.totalNanos),
                    Self.storedNanos(t.serverTimings?.loadNanos), t.serverTimings?.draftTokens,
                    t.serverTimings?.draftAcceptedTokens, Self.storedNanos(t.serverTimings?.queueNanos),
                    Self.storedNanos(t.serverTimings?.preprocessNanos),
                    Self.storedNanos(t.serverTimings?.postprocessNanos), t.serverTimings?.cachedTokens,
                    t.serverTimings?.batchSize, t.session?.session, t.session?.turn, t.historyTokens,
                ]
                try statement.execute(arguments: StatementArguments(values))
            }
        }
    }

    /// Every request of a run, in order, warmup included. `outputTextLimit` caps how many
    /// characters of each output are read (0 for none: statistics never need the text, and a
    /// run of 100,000 long answers would otherwise cost hundreds of MB).
    public func traces(runID: String, outputTextLimit: Int? = nil) throws -> [RequestTrace] {
        var traces: [RequestTrace] = []
        try forEachTrace(runID: runID, outputTextLimit: outputTextLimit) { traces.append($0) }
        return traces
    }

    /// Calls `body` with every request of a run, in order, warmup included, holding one at a
    /// time (a summary of a million requests reads them this way, several times).
    public func forEachTrace(
        runID: String, outputTextLimit: Int? = nil, _ body: (RequestTrace) throws -> Void
    ) throws {
        let text = outputTextLimit.map { "substr(output_text, 1, \($0 < 0 ? 0 : $0)) AS output_text" } ?? "output_text"
        try pool.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT \(TraceColumn.selectList(outputText: text)) FROM requests WHERE run_id = ? ORDER BY idx",
                arguments: [runID])
            // Most chunks carry one token: traces with the same chunk count share one array of
            // ones (copy-on-write) instead of each holding its own.
            var ones: [Int: [UInt32]] = [:]
            while let row = try rows.next() { try body(try Self.trace(from: row, ones: &ones)) }
        }
    }

    public func requestCount(runID: String) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM requests WHERE run_id = ?", arguments: [runID]) ?? 0
        }
    }

    // MARK: row mapping

    static func labelsByRun(_ db: Database) throws -> [String: [String]] {
        var labels: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT run_id, label FROM run_labels ORDER BY label") {
            labels[row["run_id"], default: []].append(row["label"])
        }
        return labels
    }

    static func runInfo(from row: Row, labels: [String: [String]], shards: [String: [MergedShard]] = [:]) throws
        -> RunInfo
    {
        let id: String = row["id"]
        let endedAt: Double? = row["ended_at"]
        let statusText: String = row["status"]
        guard let status = RunStatus(rawValue: statusText) else {
            throw StoreError.corrupt(
                "run \(id) has the unknown status '\(statusText)' (known: "
                    + RunStatus.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        let slo = decodeSLO(row["slo_json"])
        var info = RunInfo(
            id: id, name: row["name"], variant: row["variant"], batchID: row["batch_id"],
            labels: labels[id] ?? [], status: status,
            scenarioYAML: row["scenario_yaml"], scenarioHash: row["scenario_hash"],
            scenarioPath: row["scenario_path"], targetURL: row["target_url"], api: row["api"], model: row["model"],
            loadDescription: row["load_description"], maxTokens: row["max_tokens"],
            promptSetHash: row["prompt_set_hash"], slo: (try? slo.get()) ?? [], toolVersion: row["tool_version"],
            host: row["host"],
            gitCommit: row["git_commit"], startedAt: Date(timeIntervalSince1970: row["started_at"]),
            endedAt: endedAt.map(Date.init(timeIntervalSince1970:)))
        if case .failure(let problem) = slo { info.sloProblem = problem.message }
        if let cpu: Double = row["client_cpu_s"], let wall: Double = row["client_wall_s"] {
            info.clientLoad = ClientLoad(
                cpuSeconds: cpu, wallSeconds: wall, lagP50Milliseconds: row["client_lag_p50_ms"],
                lagP99Milliseconds: row["client_lag_p99_ms"])
        }
        if let from: Int64 = row["steady_from_ns"], let to: Int64 = row["steady_to_ns"] {
            info.steadyWindow = SteadyStateWindow(fromNanos: UInt64(from), toNanos: UInt64(to))
        }
        if let index: Int = row["shard_index"], let count: Int = row["shard_count"],
            let shard = ShardSpec(index: index, count: count), let offset: Int64 = row["clock_offset_start_ns"],
            let origin: Int64 = row["origin_wall_ns"]
        {
            let endOffset: Int64? = row["clock_offset_end_ns"]
            info.shard = ShardStamp(
                shard: shard,
                startClock: ClockOffset(offsetNanos: offset, uncertaintyNanos: row["clock_uncertainty_start_ns"] ?? 0),
                endClock: endOffset.map {
                    ClockOffset(offsetNanos: $0, uncertaintyNanos: row["clock_uncertainty_end_ns"] ?? 0)
                }, originWallNanos: origin, startAtWallNanos: row["start_at_ns"])
        }
        info.mergedFrom = shards[id]
        return info
    }

    static func sharedOnes(_ count: Int, cache: inout [Int: [UInt32]]) -> [UInt32] {
        if let shared = cache[count] { return shared }
        let made = [UInt32](repeating: 1, count: count)
        cache[count] = made
        return made
    }

    static func encodeSLO(_ slo: [SLOThreshold]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(slo), as: UTF8.self)
    }

    /// The stored `slo:` thresholds, or why they cannot be read (kept on the run as
    /// `sloProblem`, so that a gate refuses the run instead of checking it without its rules).
    static func decodeSLO(_ json: String) -> Result<[SLOThreshold], SLOReadError> {
        do {
            return .success(try JSONDecoder().decode([SLOThreshold].self, from: Data(json.utf8)))
        } catch {
            let reason: String
            switch error as? DecodingError {
            case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
                .valueNotFound(_, let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                reason = (path.isEmpty ? "" : "at \(path): ") + context.debugDescription
            default:
                reason = "\(error)"
            }
            return .failure(SLOReadError(message: "its stored slo rules cannot be read: \(reason)"))
        }
    }

    struct SLOReadError: Error {
        var message: String
    }

    /// A trace from a row of `forEachTrace`'s SELECT, its columns read by position (`TraceColumn`).
    static func trace(from row: Row, ones: inout [Int: [UInt32]]) throws -> RequestTrace {
        typealias C = TraceColumn
        let start = UInt64(row[C.startedAt.rawValue] as Int64)
        let count: Int = row[C.chunkCount.rawValue]
        let tokenBlob: Data? = row[C.chunkTokens.rawValue]
        let outcomeCode: String = row[C.outcome.rawValue]
        let outcome: RequestOutcome
        if outcomeCode == "ok" {
            outcome = .ok
        } else if let kind = FailureKind(code: outcomeCode) {
            outcome = .failed(kind, detail: row[C.errorDetail.rawValue])
        } else {
            throw StoreError.corrupt("unknown outcome '\(outcomeCode)'")
        }
        let promptTokens: Int? = row[C.promptTokens.rawValue]
        let completionTokens: Int? = row[C.completionTokens.rawValue]
        let cachedTokens: Int? = row[C.cachedTokens.rawValue]
        let reasoningTokens: Int? = row[C.reasoningTokens.rawValue]
        let hasUsage = promptTokens != nil || completionTokens != nil || cachedTokens != nil || reasoningTokens != nil
        let reasoningBlob: Data? = row[C.chunkReasoning.rawValue]
        let scheduled: Int64? = row[C.scheduledAt.rawValue]
        let firstByte: Int64? = row[C.firstByte.rawValue]
        func nanos(_ column: C) -> UInt64? { (row[column.rawValue] as Int64?).map { UInt64(max(0, $0)) } }
        let sessionID: Int? = row[C.sessionID.rawValue]
        let turnIndex: Int? = row[C.turnIndex.rawValue]
        let timings = ServerTimings(
            promptNanos: nanos(.serverPrompt), generationNanos: nanos(.serverGeneration),
            totalNanos: nanos(.serverTotal), loadNanos: nanos(.serverLoad),
            draftTokens: row[C.serverDraftTokens.rawValue], draftAcceptedTokens: row[C.serverDraftAccepted.rawValue],
            queueNanos: nanos(.serverQueue), preprocessNanos: nanos(.serverPreprocess),
            postprocessNanos: nanos(.serverPostprocess), cachedTokens: row[C.serverCachedTokens.rawValue],
            batchSize: row[C.serverBatchSize.rawValue])
        var trace = RequestTrace(
            index: row[C.idx.rawValue], isWarmup: row[C.isWarmup.rawValue], promptIndex: row[C.promptIndex.rawValue],
            scheduledAtNanos: scheduled.map(UInt64.init), startedAtNanos: start,
            dnsNanos: UInt64(row[C.dns.rawValue] as Int64), connectNanos: UInt64(row[C.connect.rawValue] as Int64),
            tlsNanos: UInt64(row[C.tls.rawValue] as Int64), sentNanos: UInt64(row[C.sent.rawValue] as Int64),
            firstByteNanos: firstByte.map(UInt64.init),
            // Decoded where SQLite holds the blob: no copy into a Data, then into an array.
            chunkAtNanos: try row.withUnsafeData(atIndex: C.chunkTimes.rawValue) { data in
                try (data ?? Data()).withUnsafeBytes { bytes in
                    try ChunkTimeCodec.decode(bytes, from: start, count: count)
                }
            },
            chunkTokens: try tokenBlob.map { try ChunkTimeCodec.decodeTokens([UInt8]($0), count: count) }
                ?? Self.sharedOnes(count, cache: &ones),
            chunkReasoning: try reasoningBlob.map { try ChunkTimeCodec.decodeReasoning([UInt8]($0), count: count) }
                ?? [],
            endedAtNanos: UInt64(row[C.endedAt.rawValue] as Int64),
            usage: hasUsage
                ? TokenUsage(
                    promptTokens: promptTokens, completionTokens: completionTokens, cachedTokens: cachedTokens,
                    reasoningTokens: reasoningTokens) : nil,
            outcome: outcome,
            connection: ConnectionInfo(
                reused: row[C.connectionReused.rawValue], httpVersion: row[C.httpVersion.rawValue],
                remoteAddress: row[C.remoteAddress.rawValue]),
            httpStatus: row[C.httpStatus.rawValue], outputText: row[C.outputText.rawValue],
            timingKnown: row[C.timingKnown.rawValue],
            serverTimings: timings.isEmpty ? nil : timings,
            session: sessionID.flatMap { session in turnIndex.map { SessionTurn(session: session, turn: $0) } },
            historyTokens: row[C.historyTokens.rawValue],
            tokenizerOutputTokens: (row[C.tokenSource.rawValue] as String?) == TokenCountSource.tokenizer.rawValue
                ? row[C.outputTokens.rawValue] : nil)
        trace.shard = row[C.shard.rawValue]
        return trace
    }

    /// A duration as SQLite's signed 64-bit integer (a reported duration over 292 years is capped).
    static func storedNanos(_ nanos: UInt64?) -> Int64? { nanos.map { Int64(clamping: $0) } }
}

/// Filters for `RunStore.listRuns`.
public struct RunFilter: Sendable {
    public var name: String?
    public var label: String?
    public var since: Date?
    public var status: RunStatus?
    public var batchID: String?
    public var limit: Int?

    public init(
        name: String? = nil, label: String? = nil, since: Date? = nil, status: RunStatus? = nil,
        batchID: String? = nil, limit: Int? = nil
    ) {
        self.name = name
        self.label = label
        self.since = since
        self.status = status
        self.batchID = batchID
        self.limit = limit
    }
}

/// The columns `forEachTrace` selects, in this order: `trace(from:)` reads each by its position. Read by name,
/// GRDB looks a column up among the row's 44 for each of a row's 44 reads, which was half of a pass over
/// the rows (a pass over 800,000 requests: 2.4 s by name).
enum TraceColumn: Int, CaseIterable {
    case idx, isWarmup, promptIndex, scheduledAt, startedAt, dns, connect, tls, sent, firstByte, endedAt
    case chunkCount, chunkTimes, chunkTokens, promptTokens, completionTokens, cachedTokens, outcome, errorDetail
    case httpStatus, connectionReused, httpVersion, remoteAddress, timingKnown, chunkReasoning, reasoningTokens
    case serverPrompt, serverGeneration, serverTotal, serverLoad, serverDraftTokens, serverDraftAccepted
    case serverQueue, serverPreprocess, serverPostprocess, serverCachedTokens, serverBatchSize
    case sessionID, turnIndex, historyTokens, outputTokens, tokenSource, shard, outputText

    /// The column's name in `requests`.
    var column: String {
        switch self {
        case .idx: return "idx"
        case .isWarmup: return "is_warmup"
        case .promptIndex: return "prompt_index"
        case .scheduledAt: return "scheduled_at_ns"
        case .startedAt: return "started_at_ns"
        case .dns: return "dns_ns"
        case .connect: return "connect_ns"
        case .tls: return "tls_ns"
        case .sent: return "sent_ns"
        case .firstByte: return "first_byte_ns"
        case .endedAt: return "ended_at_ns"
        case .chunkCount: return "chunk_count"
        case .chunkTimes: return "chunk_times"
        case .chunkTokens: return "chunk_tokens"
        case .promptTokens: return "prompt_tokens"
        case .completionTokens: return "completion_tokens"
        case .cachedTokens: return "cached_tokens"
        case .outcome: return "outcome"
        case .errorDetail: return "error_detail"
        case .httpStatus: return "http_status"
        case .connectionReused: return "connection_reused"
        case .httpVersion: return "http_version"
        case .remoteAddress: return "remote_address"
        case .timingKnown: return "timing_known"
        case .chunkReasoning: return "chunk_reasoning"
        case .reasoningTokens: return "reasoning_tokens"
        case .serverPrompt: return "server_prompt_ns"
        case .serverGeneration: return "server_generation_ns"
        case .serverTotal: return "server_total_ns"
        case .serverLoad: return "server_load_ns"
        case .serverDraftTokens: return "server_draft_tokens"
        case .serverDraftAccepted: return "server_draft_accepted_tokens"
        case .serverQueue: return "server_queue_ns"
        case .serverPreprocess: return "server_preprocess_ns"
        case .serverPostprocess: return "server_postprocess_ns"
        case .serverCachedTokens: return "server_cached_tokens"
        case .serverBatchSize: return "server_batch_size"
        case .sessionID: return "session_id"
        case .turnIndex: return "turn_index"
        case .historyTokens: return "history_tokens"
        case .outputTokens: return "output_tokens"
        case .tokenSource: return "token_source"
        case .shard: return "shard"
        case .outputText: return "output_text"
        }
    }

    /// The SELECT list, in order; `outputText` is the output text's expression (a prefix of it, or the column).
    static func selectList(outputText: String) -> String {
        allCases.map { $0 == .outputText ? outputText : $0.column }.joined(separator: ", ")
    }
}
