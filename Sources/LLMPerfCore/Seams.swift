import Foundation

// The seams the run pipeline is written against. Core defines them; the Client (libcurl),
// the Store (SQLite) and the runner's tests (fakes) implement them. Nothing here does I/O.

/// One request the load driver wants sent now.
public struct RequestOrder: Sendable, Equatable {
    /// The request's index in the run (warmup requests come first).
    public var index: Int
    public var isWarmup: Bool
    /// Which of the workload's prompts it carries.
    public var promptIndex: Int
    /// When an open-loop schedule wanted it sent (CLOCK_MONOTONIC ns), nil in a closed loop.
    public var scheduledAtNanos: UInt64?
    /// The session turn it is (`workload.sessions`), nil for a request on its own.
    public var session: SessionTurn?

    public init(
        index: Int, isWarmup: Bool, promptIndex: Int, scheduledAtNanos: UInt64? = nil, session: SessionTurn? = nil
    ) {
        self.index = index
        self.isWarmup = isWarmup
        self.promptIndex = promptIndex
        self.scheduledAtNanos = scheduledAtNanos
        self.session = session
    }
}

/// Which session a request belongs to and which of its turns it is (both from 0).
public struct SessionTurn: Sendable, Equatable, Hashable, Codable {
    public var session: Int
    public var turn: Int

    public init(session: Int, turn: Int) {
        self.session = session
        self.turn = turn
    }
}

/// A request in flight that can be cancelled (it then still completes, as `cancelled`).
public protocol InFlightRequest: Sendable {
    func cancel()
}

/// Sends requests and reports each one's trace exactly once, on any thread.
public protocol Transport: Sendable {
    /// How many different prompts the transport can send (`RequestOrder.promptIndex` is below it).
    var promptCount: Int { get }
    func send(_ order: RequestOrder, completion: @escaping @Sendable (RequestTrace) -> Void) -> any InFlightRequest
}

/// The monotonic time the driver paces by. The real one reads CLOCK_MONOTONIC; tests use a
/// manual one.
public protocol RunClock: Sendable {
    /// Nanoseconds on CLOCK_MONOTONIC (or the fake's timeline).
    func nowNanos() -> UInt64
    /// Returns once `nowNanos() >= deadline` (or the task is cancelled).
    func sleep(untilNanos deadline: UInt64) async
}

/// Where a run's traces go as they arrive (the Store's batched SQLite writer, or a fake).
public protocol TraceSink: Sendable {
    func append(_ trace: RequestTrace)
    /// Flushes what is buffered; returns how many traces were written.
    func finish() throws -> Int
}
