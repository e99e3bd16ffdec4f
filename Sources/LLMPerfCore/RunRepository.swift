import Foundation

/// What the run pipeline, the lab and the gate need of the run database. The Store (SQLite)
/// implements it; the runner's tests use an in-memory fake.
public protocol RunRepository: Sendable {
    /// Where the runs are kept, for messages.
    var location: String { get }
    /// A fresh short run id (`r7f3a2c`).
    func newRunID() throws -> String
    /// Stores a new run row, owned by this process (status `running` unless `run` says otherwise).
    func createRun(_ run: RunInfo) throws
    /// Sets a run's final status and end time (and the target URL it was measured at, when given).
    func finishRun(id: String, status: RunStatus, endedAt: Date, targetURL: String?) throws
    /// Stores how hard the client worked while the run's requests ran.
    func recordClientLoad(id: String, _ load: ClientLoad) throws
    /// Stores a shard's clock offset as read at the end of its run (`ShardStamp.endClock`).
    func recordShardEnd(id: String, endClock: ClockOffset) throws
    /// Stores the steady-state window a run's statistics are taken over.
    func recordSteadyWindow(id: String, _ window: SteadyStateWindow) throws
    /// Stores one scrape of the server's metrics endpoint (`target.metrics`), failed or not. `previous` is the
    /// run's last successful scrape before it (nil for the first): a store may keep only what changed since.
    func recordScrape(runID: String, _ scrape: MetricsScrape, previous: MetricsScrape?) throws
    /// A run's scrapes, in order (none when it scraped nothing).
    func scrapes(runID: String) throws -> [MetricsScrape]
    /// Stores a sweep, or updates its status, stop reason and end when it is already stored.
    func saveSweep(_ sweep: SweepRecord) throws
    /// Every stored sweep, newest first.
    func sweepRecords() throws -> [SweepRecord]
    /// The runs of one batch (a sweep's points), oldest first.
    func runs(inBatch batchID: String) throws -> [RunInfo]
    /// The run a reference names (id, prefix, `name@latest`, `label:X`, …); an unknown, ambiguous
    /// or malformed reference throws `RunRepositoryError.invalidReference`.
    func resolveRun(_ reference: String) throws -> RunInfo
    /// Every request of a run, in order, warmup included; `outputTextLimit` caps each output's text.
    func traces(runID: String, outputTextLimit: Int?) throws -> [RequestTrace]
    /// Calls `body` with every request of a run, in order, one at a time.
    func forEachTrace(runID: String, outputTextLimit: Int?, _ body: (RequestTrace) throws -> Void) throws
    /// A sink that stores `runID`'s requests as they arrive. When it gives up storing (a batch
    /// failed on its retry) it calls `onFailure` once, and its `finish` throws.
    func traceSink(runID: String, onFailure: @escaping @Sendable () -> Void) -> any TraceSink
}

extension RunRepository {
    public func finishRun(id: String, status: RunStatus, endedAt: Date) throws {
        try finishRun(id: id, status: status, endedAt: endedAt, targetURL: nil)
    }
}

/// A repository's errors that decide the exit status: an invalid reference is the user's input
/// (exit 2), a failure is the database's (exit 1).
public enum RunRepositoryError: Error, CustomStringConvertible, Equatable {
    case invalidReference(String)
    case failure(String)

    public var description: String {
        switch self {
        case .invalidReference(let message), .failure(let message): return message
        }
    }
}
