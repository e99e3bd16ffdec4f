import Foundation
import LLMPerfCore
import LLMPerfRunner

/// A clock that only moves when something sleeps on it: `sleep` jumps to the deadline at once.
final class ManualClock: RunClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    init(startNanos: UInt64 = 1_000_000_000) { now = startNanos }

    func nowNanos() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return now
    }

    func sleep(untilNanos deadline: UInt64) async { advance(to: deadline) }

    private func advance(to deadline: UInt64) {
        lock.lock()
        now = max(now, deadline)
        lock.unlock()
    }
}

/// What a fake transport sent: one order with the endpoint and request-id prefix it was made for.
struct SentOrder: Sendable, Equatable {
    var url: String
    var requestIDPrefix: String?
    var variant: String?
    var order: RequestOrder
}

/// Remembers what the fake transports sent, across runs.
final class SendLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [SentOrder] = []
    /// Called with each order as it is sent (e.g. to interrupt the run in the middle).
    var onSend: (@Sendable (SentOrder) -> Void)?

    func record(_ entry: SentOrder) {
        lock.lock()
        entries.append(entry)
        let hook = onSend
        lock.unlock()
        hook?(entry)
    }

    var all: [SentOrder] {
        lock.lock()
        defer { lock.unlock() }
        return entries
    }
}

/// A transport that completes every order at once with a canned trace: `ttftMillis` to the
/// first of `tokens` chunks, 1 ms apart (the variant decides the TTFT, so variants differ).
struct FakeTransport: Transport {
    var url: String
    var requestIDPrefix: String?
    var variant: String?
    var ttftMillis: UInt64
    var tokens: Int
    var log: SendLog

    var promptCount: Int { 1 }

    func send(_ order: RequestOrder, completion: @escaping @Sendable (RequestTrace) -> Void) -> any InFlightRequest {
        log.record(SentOrder(url: url, requestIDPrefix: requestIDPrefix, variant: variant, order: order))
        completion(Self.trace(order, ttftMillis: ttftMillis, tokens: tokens))
        return NoRequest()
    }

    static func trace(_ order: RequestOrder, ttftMillis: UInt64, tokens: Int) -> RequestTrace {
        let start = UInt64(order.index) * 1_000_000_000
        let first = start + ttftMillis * 1_000_000
        let chunks = (0..<tokens).map { first + UInt64($0) * 1_000_000 }
        return RequestTrace(
            index: order.index, isWarmup: order.isWarmup, promptIndex: order.promptIndex,
            startedAtNanos: start, sentNanos: 100_000, firstByteNanos: first, chunkAtNanos: chunks,
            chunkTokens: Array(repeating: 1, count: tokens), endedAtNanos: chunks.last ?? first,
            usage: TokenUsage(promptTokens: 3, completionTokens: tokens))
    }

    /// A factory giving every run its own fake transport; `ttft` picks the TTFT per variant.
    static func factory(
        log: SendLog, tokens: Int = 4, ttft: @escaping @Sendable (String?) -> UInt64 = { _ in 10 }
    ) -> TransportFactory {
        { scenario, url, _, prefix in
            FakeTransport(
                url: url, requestIDPrefix: prefix, variant: scenario.variant, ttftMillis: ttft(scenario.variant),
                tokens: tokens, log: log)
        }
    }
}

struct NoRequest: InFlightRequest {
    func cancel() {}
}

/// An in-memory run database that records every status a run is given.
final class FakeRepository: RunRepository, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var runs: [String: RunInfo] = [:]
    private(set) var stored: [String: [RequestTrace]] = [:]
    /// Every (run id, status) written, in order: `createRun` then `finishRun`.
    private(set) var statuses: [(id: String, status: RunStatus)] = []
    private var nextID = 0
    /// The sink gives up on this many'th trace (1-based) of every run: nothing from it on is stored.
    var sinkFailsAt: Int?

    var location: String { "memory" }

    func newRunID() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        nextID += 1
        return "r\(nextID)"
    }

    func createRun(_ run: RunInfo) throws {
        lock.lock()
        defer { lock.unlock() }
        runs[run.id] = run
        stored[run.id] = []
        statuses.append((run.id, run.status))
    }

    func finishRun(id: String, status: RunStatus, endedAt: Date, targetURL: String?) throws {
        lock.lock()
        defer { lock.unlock() }
        runs[id]?.status = status
        runs[id]?.endedAt = endedAt
        if let targetURL { runs[id]?.targetURL = targetURL }
        statuses.append((id, status))
    }

    func recordClientLoad(id: String, _ load: ClientLoad) throws {
        lock.lock()
        defer { lock.unlock() }
        runs[id]?.clientLoad = load
    }

    private(set) var sweeps: [String: SweepRecord] = [:]

    func recordShardEnd(id: String, endClock: ClockOffset) throws {
        lock.lock()
        defer { lock.unlock() }
        runs[id]?.shard?.endClock = endClock
    }

    func recordSteadyWindow(id: String, _ window: SteadyStateWindow) throws {
        lock.lock()
        defer { lock.unlock() }
        runs[id]?.steadyWindow = window
    }

    private var storedScrapes: [String: [MetricsScrape]] = [:]

    func recordScrape(runID: String, _ scrape: MetricsScrape, previous: MetricsScrape?) throws {
        lock.lock()
        defer { lock.unlock() }
        storedScrapes[runID, default: []].append(scrape)
    }

    func scrapes(runID: String) throws -> [MetricsScrape] {
        lock.lock()
        defer { lock.unlock() }
        return storedScrapes[runID] ?? []
    }

    func saveSweep(_ sweep: SweepRecord) throws {
        lock.lock()
        defer { lock.unlock() }
        sweeps[sweep.batchID] = sweep
    }

    func sweepRecords() throws -> [SweepRecord] {
        lock.lock()
        defer { lock.unlock() }
        return sweeps.values.sorted { $0.startedAt > $1.startedAt }
    }

    func runs(inBatch batchID: String) throws -> [RunInfo] {
        lock.lock()
        defer { lock.unlock() }
        return runs.values.filter { $0.batchID == batchID }.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
    }

    func resolveRun(_ reference: String) throws -> RunInfo {
        lock.lock()
        defer { lock.unlock() }
        guard let run = runs[reference] else { throw RunRepositoryError.invalidReference("no run \(reference)") }
        return run
    }

    func traces(runID: String, outputTextLimit: Int?) throws -> [RequestTrace] {
        lock.lock()
        defer { lock.unlock() }
        return (stored[runID] ?? []).sorted { $0.index < $1.index }
    }

    func forEachTrace(runID: String, outputTextLimit: Int?, _ body: (RequestTrace) throws -> Void) throws {
        for trace in try traces(runID: runID, outputTextLimit: outputTextLimit) { try body(trace) }
    }

    func traceSink(runID: String, onFailure: @escaping @Sendable () -> Void) -> any TraceSink {
        FakeSink(repository: self, runID: runID, failsAt: sinkFailsAt, onFailure: onFailure)
    }

    fileprivate func store(_ trace: RequestTrace, runID: String) {
        lock.lock()
        stored[runID, default: []].append(trace)
        lock.unlock()
    }
}

struct SinkFailure: Error, CustomStringConvertible {
    var description: String { "the disk is full" }
}

/// Stores each trace in the fake repository at once; fails for good at `failsAt`.
final class FakeSink: TraceSink, @unchecked Sendable {
    private let lock = NSLock()
    private let repository: FakeRepository
    private let runID: String
    private let failsAt: Int?
    private let onFailure: @Sendable () -> Void
    private var received = 0
    private var failed = false

    init(repository: FakeRepository, runID: String, failsAt: Int?, onFailure: @escaping @Sendable () -> Void) {
        self.repository = repository
        self.runID = runID
        self.failsAt = failsAt
        self.onFailure = onFailure
    }

    func append(_ trace: RequestTrace) {
        lock.lock()
        received += 1
        let failNow = !failed && failsAt.map { received >= $0 } == true
        if failNow { failed = true }
        let keep = !failed
        lock.unlock()
        if keep { repository.store(trace, runID: runID) }
        if failNow { onFailure() }
    }

    func finish() throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        if failed { throw SinkFailure() }
        return received
    }
}

/// Interrupted by hand.
final class ManualInterrupts: Interrupts, @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var action: (@Sendable () -> Void)?

    var interrupted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return fired
    }

    func onInterrupt(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        self.action = action
        let already = fired
        lock.unlock()
        if already { action() }
    }

    func interrupt() {
        lock.lock()
        let first = !fired
        fired = true
        let action = action
        lock.unlock()
        if first { action?() }
    }
}

struct BackendDidNotStart: Error, CustomStringConvertible {
    var description: String { "the local backend exited before listening" }
}

/// A backend that is never a process: `start` fails when asked to, else hands out a fake URL.
/// A spec with a `trace-file` option gets that file written on `stop`, from `serverTrace`.
final class FakeLauncher: BackendLauncher, @unchecked Sendable {
    private let lock = NSLock()
    var fails = false
    var serverTrace: (@Sendable () -> String)?
    private(set) var started: [LocalBackendSpec] = []
    private(set) var stopped = 0

    func start(_ spec: LocalBackendSpec) throws -> any RunningBackend {
        lock.lock()
        defer { lock.unlock() }
        if fails { throw BackendDidNotStart() }
        started.append(spec)
        let traceFile = spec.options.first { $0.key == "trace-file" }?.value
        return FakeBackend(
            apiBaseURL: "http://127.0.0.1:\(9_000 + started.count)/v1",
            onStop: { [weak self] in
                guard let self else { return }
                self.lock.lock()
                self.stopped += 1
                let trace = self.serverTrace
                self.lock.unlock()
                if let traceFile, let trace { try? trace().write(toFile: traceFile, atomically: true, encoding: .utf8) }
            })
    }
}

final class FakeBackend: RunningBackend {
    let apiBaseURL: String
    var caFile: String? { nil }
    private let onStop: () -> Void
    private var isStopped = false

    init(apiBaseURL: String, onStop: @escaping () -> Void) {
        self.apiBaseURL = apiBaseURL
        self.onStop = onStop
    }

    func stop() {
        guard !isStopped else { return }
        isStopped = true
        onStop()
    }
}

/// A pipeline over fakes, and the fakes, for one test.
struct Harness {
    let repository = FakeRepository()
    let log = SendLog()
    let launcher = FakeLauncher()
    let interrupts = ManualInterrupts()

    func pipeline(ttft: @escaping @Sendable (String?) -> UInt64 = { _ in 10 }) -> RunPipeline {
        RunPipeline(
            wiring: RunWiring(
                repository: repository, makeTransport: FakeTransport.factory(log: log, ttft: ttft), launcher: launcher,
                clock: ManualClock(), cancelGrace: .milliseconds(1)),
            batchID: "btest", gitCommit: nil, progress: .off, interrupts: interrupts)
    }

    static func scenario(_ yaml: String) throws -> ScenarioDocument {
        try ScenarioLoader.load(yaml: yaml, path: "/tmp/llmperf-runner-tests/scenario.yml", environment: [:])
    }
}
