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
    /// for runs already here), each with its shard and its times moved by the shard's shift. One transaction
    /// for each merged run: all of it or nothing. Refuses a group whose shards were merged here before.
    /// Returns the merged runs.
    public func merge(_ plan: ShardMergePlan) throws -> [RunInfo] {
        var merged: [RunInfo] = []
        for group in plan.groups {
            if let earlier = try mergedRun(of: group) {
                throw StoreError.invalidReference(
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
            let ownPath = Self.canonical(path)
            var attached: [String: String] = [:]
            for part in group.parts where Self.canonical(part.candidate.source) != ownPath {
                if attached[part.candidate.source] == nil {
                    attached[part.candidate.source] = "shard_src\(attached.count)"
                }
            }
            let finalInfo = info
            try pool.writeWithoutTransaction { db in
                for (file, schema) in attached {
                    try db.execute(sql: "ATTACH DATABASE ? AS \(schema)", arguments: [file])
                }
                defer {
                    for schema in attached.values { try? db.execute(sql: "DETACH DATABASE \(schema)") }
                }
                try db.inTransaction {
                    try Self.insertRunRow(db, finalInfo, owner: nil)
                    for (shard, part) in zip(finalInfo.mergedFrom ?? [], group.parts) {
                        try Self.insertShardRow(db, runID: finalInfo.id, shard)
                        let schema = attached[part.candidate.source] ?? "main"
                        try Self.copyRequests(
                            db, columns: columns, from: schema, runID: part.candidate.info.id, into: finalInfo.id,
                            shard: shard.stamp.shard.index, shiftNanos: part.shiftNanos)
                    }
                    return .commit
                }
            }
            merged.append(info)
        }
        return merged
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

    /// One statement for a shard's requests: SQLite copies the rows (blobs included) without them passing
    /// through Swift, which is what keeps a merge of 800,000 rows within seconds. Chunk times are stored
    /// relative to each request's start, so only the three run-clock columns move.
    static func copyRequests(
        _ db: Database, columns: [String], from schema: String, runID: String, into mergedID: String, shard: Int,
        shiftNanos: Int64
    ) throws {
        let values = columns.map { column -> String in
            switch column {
            case "run_id": return "?"
            case "shard": return String(shard)
            case "scheduled_at_ns", "started_at_ns", "ended_at_ns": return "\(column) + \(shiftNanos)"
            default: return column
            }
        }
        try db.execute(
            sql: """
                INSERT INTO main.requests (\(columns.joined(separator: ", ")))
                SELECT \(values.joined(separator: ", ")) FROM \(schema).requests WHERE run_id = ?
                """, arguments: [mergedID, runID])
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
