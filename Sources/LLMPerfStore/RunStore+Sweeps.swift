import Foundation
import GRDB
import LLMPerfCore

extension RunStore {
    /// Stores a sweep, or updates it (status, stop reason, end) when it is already stored.
    public func saveSweep(_ sweep: SweepRecord) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sweeps (batch_id, name, over, search, status, stop_reason, started_at, ended_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (batch_id) DO UPDATE SET
                        status = excluded.status, stop_reason = excluded.stop_reason, ended_at = excluded.ended_at
                    """,
                arguments: [
                    sweep.batchID, sweep.name, sweep.over.rawValue, sweep.search.rawValue, sweep.status.rawValue,
                    sweep.stopReason, sweep.startedAt.timeIntervalSince1970, sweep.endedAt?.timeIntervalSince1970,
                ])
        }
    }

    /// Every stored sweep, newest first.
    public func sweepRecords() throws -> [SweepRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sweeps ORDER BY started_at DESC, rowid DESC").map { row in
                let batch: String = row["batch_id"]
                func field<T: RawRepresentable>(_ column: String, _ type: T.Type) throws -> T
                where T.RawValue == String {
                    let text: String = row[column]
                    guard let value = T(rawValue: text) else {
                        throw StoreError.corrupt("sweep \(batch) has the unknown \(column) '\(text)'")
                    }
                    return value
                }
                let ended: Double? = row["ended_at"]
                return SweepRecord(
                    batchID: batch, name: row["name"], over: try field("over", SweepOver.self),
                    search: try field("search", SweepRecord.Search.self), status: try field("status", RunStatus.self),
                    stopReason: row["stop_reason"], startedAt: Date(timeIntervalSince1970: row["started_at"]),
                    endedAt: ended.map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// The runs of one batch, oldest first.
    public func runs(inBatch batchID: String) throws -> [RunInfo] {
        try listRuns(RunFilter(batchID: batchID)).reversed()
    }
}
