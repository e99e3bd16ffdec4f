import Foundation
import GRDB
import LLMPerfCore

extension RunStore {
    /// The shards' runs this database holds (`run --shard I/N`), oldest first.
    public func shardRuns() throws -> [RunInfo] {
        try pool.read { db in
            let labels = try Self.labelsByRun(db)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM runs WHERE shard_index IS NOT NULL ORDER BY started_at, rowid"
            ).map { try Self.runInfo(from: $0, labels: labels) }
        }
    }

    /// Carries out a checked merge (`ShardMergePlan`): for each group a new run in this database with every
    /// request of its shards' runs, read from their files (`ShardCandidate.source`, this database's own path
    /// for runs already here), each with its shard and its times moved by the shard's shift. All of a merged
    /// run is stored or none of it (a failure takes it out again). Refuses a group whose shards were merged here before.
    /// Returns the merged runs.
    public func merge(_ plan: ShardMergePlan) throws -> [RunInfo] {
        var merged: [RunInfo] = []
        for group in plan.groups {
            if let earlier = try mergedRun(of: group) {
                throw StoreError.conflict(
                    "these shards (runs " + group.parts.map(\.candidate.info.id).joined(separator: ", ")
                        + ") were merged into run \(earlier) already")
            }
            var info = group.merged
            info.id = try newRunID()
            info.mergedFrom = group.parts.map { part in
                MergedShard(
                    stamp: part.stamp, sourceRunID: part.candidate.info.id, source: part.candidate.source,
                    host: part.candidate.info.host, status: part.candidate.info.status, shiftNanos: part.shiftNanos)
            }
            let columns = try pool.read { db in try Row.fetchAll(db, sql: "PRAGMA table_info(requests)") }
                .map { $0["name"] as String }
            let finalInfo = info
            do {
                try write(finalInfo, group: group, columns: columns)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                // Shards of one load never share a request index: these runs were not split by one --shard I/N.
                throw StoreError.conflict(
                    "two of the shards hold a request of the same index, so they are not shares of one load "
                        + "(nothing was stored): \(error.message ?? "\(error)")")
            }
            merged.append(info)
        }
        return merged
    }

    /// SQLite attaches at most 10 databases to a connection: the shards' files go in batches of this many.
    static let filesPerStatement = 8

    /// The run row and its shard rows, then its requests, copied a batch of shards at a time by one
    /// `INSERT … SELECT` whose arms are merged in index order. The table is keyed by (run, index) and the
    /// shards' indices interleave (I, I+N, …): copied shard after shard, every shard would write into every
    /// page of the new run; merged in order, each page is written once (6.9 s against 5.1 s for 8 shards of
    /// 100,000 requests, measured with the sqlite3 shell on this machine).
    private func write(_ finalInfo: RunInfo, group: ShardMergePlan.Group, columns: [String]) throws {
        let ownPath = Self.canonical(path)
        var batches: [[(part: ShardMergePlan.Part, file: String?)]] = [[]]
        var filesInBatch = Set<String>()
        for part in group.parts {
            let source = part.candidate.source
            let file: String? = Self.canonical(source) == ownPath ? nil : source
            if let file, !filesInBatch.contains(file), filesInBatch.count == Self.filesPerStatement {
                batches.append([])
                filesInBatch = []
            }
            if let file { filesInBatch.insert(file) }
            batches[batches.count - 1].append((part, file))
        }
        // The run is `running` (and owned by this process) while its rows are copied: ATTACH cannot happen
        // inside a transaction, so each batch is a transaction of its own, and a failure takes the whole run
        // out again (its requests and shard rows go with it).
        var running = finalInfo
        running.status = .running
        try pool.write { db in
            try Self.insertRunRow(db, running, owner: .current)
            for shard in finalInfo.mergedFrom ?? [] { try Self.insertShardRow(db, runID: finalInfo.id, shard) }
        }
        do {
            try pool.writeWithoutTransaction { db in
                for batch in batches where !batch.isEmpty {
                    var schemas: [String: String] = [:]
                    defer { for schema in schemas.values { try? db.execute(sql: "DETACH DATABASE \(schema)") } }
                    for file in batch.compactMap(\.file) where schemas[file] == nil {
                        let schema = "shard_src\(schemas.count)"
                        try db.execute(sql: "ATTACH DATABASE ? AS \(schema)", arguments: [file])
                        schemas[file] = schema
                    }
                    try db.inTransaction {
                        try Self.copyRequests(
                            db, columns: columns, into: finalInfo.id,
                            from: batch.map { (schemas[$0.file ?? ""] ?? "main", $0.part) })
                        return .commit
                    }
                }
            }
            try finishRun(id: finalInfo.id, status: finalInfo.status, endedAt: finalInfo.endedAt ?? Date())
        } catch {
            try? pool.write { db in try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [finalInfo.id]) }
            throw error
        }
    }

    /// The id of a run here merged from exactly this group's shard runs, if there is one.
    func mergedRun(of group: ShardMergePlan.Group) throws -> String? {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.run_id, s.shard_index, s.source_run_id FROM run_shards s JOIN runs r ON r.id = s.run_id
                    WHERE r.batch_id = ? AND r.variant IS ?
                    """, arguments: [group.merged.batchID, group.merged.variant])
            var byRun: [String: [Int: String]] = [:]
            for row in rows { byRun[row["run_id"], default: [:]][row["shard_index"]] = row["source_run_id"] }
            let wanted = Dictionary(
                uniqueKeysWithValues: group.parts.map { ($0.stamp.shard.index, $0.candidate.info.id) })
            return byRun.first { $0.value == wanted }?.key
        }
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    static func insertShardRow(_ db: Database, runID: String, _ shard: MergedShard) throws {
        let stamp = shard.stamp
        try db.execute(
            sql: """
                INSERT INTO run_shards (run_id, shard_index, source_run_id, source, host, status, origin_shift_ns,
                    clock_offset_start_ns, clock_uncertainty_start_ns, clock_offset_end_ns, clock_uncertainty_end_ns,
                    origin_wall_ns, start_at_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                runID, stamp.shard.index, shard.sourceRunID, shard.source, shard.host, shard.status.rawValue,
                shard.shiftNanos, stamp.startClock.offsetNanos, stamp.startClock.uncertaintyNanos,
                stamp.endClock?.offsetNanos, stamp.endClock?.uncertaintyNanos, stamp.originWallNanos,
                stamp.startAtWallNanos,
            ])
    }

    /// One statement for a batch of shards: SQLite copies the rows (blobs included) without them passing
    /// through Swift, which is what keeps a merge of 800,000 rows within seconds. Chunk times are stored relative
    /// to each request's start, so only the three run-clock columns move.
    static func copyRequests(
        _ db: Database, columns: [String], into mergedID: String,
        from parts: [(schema: String, part: ShardMergePlan.Part)]
    ) throws {
        var arguments: [any DatabaseValueConvertible] = []
        let arms = parts.map { schema, part -> String in
            let values = columns.map { column -> String in
                switch column {
                case "run_id": return "?"
                case "shard": return String(part.stamp.shard.index)
                case "scheduled_at_ns", "started_at_ns", "ended_at_ns": return "\(column) + \(part.shiftNanos)"
                default: return column
                }
            }
            arguments += [mergedID, part.candidate.info.id]
            return "SELECT \(values.joined(separator: ", ")) FROM \(schema).requests WHERE run_id = ?"
        }
        try db.execute(
            sql: """
                INSERT INTO main.requests (\(columns.joined(separator: ", ")))
                \(arms.joined(separator: "\nUNION ALL\n")) ORDER BY idx
                """, arguments: StatementArguments(arguments))
    }

    /// The shards of every merged run, by run id.
    static func shardsByRun(_ db: Database) throws -> [String: [MergedShard]] {
        var shards: [String: [MergedShard]] = [:]
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT s.*, r.merged_shards FROM run_shards s JOIN runs r ON r.id = s.run_id
                ORDER BY s.run_id, s.shard_index
                """)
        for row in rows {
            guard let count: Int = row["merged_shards"], let spec = ShardSpec(index: row["shard_index"], count: count)
            else { continue }
            let endOffset: Int64? = row["clock_offset_end_ns"]
            let stamp = ShardStamp(
                shard: spec,
                startClock: ClockOffset(
                    offsetNanos: row["clock_offset_start_ns"], uncertaintyNanos: row["clock_uncertainty_start_ns"]),
                endClock: endOffset.map {
                    ClockOffset(offsetNanos: $0, uncertaintyNanos: row["clock_uncertainty_end_ns"] ?? 0)
                }, originWallNanos: row["origin_wall_ns"], startAtWallNanos: row["start_at_ns"])
            shards[row["run_id"], default: []].append(
                MergedShard(
                    stamp: stamp, sourceRunID: row["source_run_id"], source: row["source"], host: row["host"],
                    status: RunStatus(rawValue: row["status"]) ?? .completed, shiftNanos: row["origin_shift_ns"]))
        }
        return shards
    }
}
