import Foundation
import Testing

@testable import LLMPerfCore

/// A run clock that moves only when a test advances it.
final class ManualRunClock: RunClock, @unchecked Sendable {
    private struct Sleeper {
        var id: Int
        var deadline: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    private let lock = NSLock()
    private var now: UInt64
    private var sleepers: [Sleeper] = []
    private var nextID = 0

    init(now: UInt64 = 1_000_000_000) { self.now = now }

    func nowNanos() -> UInt64 { lock.withLock { now } }

    func sleep(untilNanos deadline: UInt64) async {
        let id = lock.withLock {
            nextID += 1
            return nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if now >= deadline || Task.isCancelled {
                    lock.unlock()
                    continuation.resume()
                } else {
                    sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            let index = sleepers.firstIndex { $0.id == id }
            let sleeper = index.map { sleepers.remove(at: $0) }
            lock.unlock()
            sleeper?.continuation.resume()
        }
    }

    /// The deadlines of the tasks sleeping now, earliest first.
    var sleeping: [UInt64] { lock.withLock { sleepers.map(\.deadline).sorted() } }

    /// Moves the time on by `nanos` and wakes every sleeper whose deadline has come.
    func advance(by nanos: UInt64) {
        lock.lock()
        now += nanos
        let due = sleepers.filter { $0.deadline <= now }
        sleepers.removeAll { $0.deadline <= now }
        lock.unlock()
        for sleeper in due { sleeper.continuation.resume() }
    }
}

/// A transport whose requests finish when the test says so. It records each order with the
/// clock's time at sending, and each cancel.
final class FakeTransport: Transport, @unchecked Sendable {
    struct Sent: Equatable {
        var order: RequestOrder
        var atNanos: UInt64
    }

    let promptCount: Int
    let clock: ManualRunClock
    private let lock = NSLock()
    private var sentOrders: [Sent] = []
    private var completions: [Int: @Sendable (RequestTrace) -> Void] = [:]
    private var cancelledIndices: [Int] = []

    init(promptCount: Int = 2, clock: ManualRunClock) {
        self.promptCount = promptCount
        self.clock = clock
    }

    func send(_ order: RequestOrder, completion: @escaping @Sendable (RequestTrace) -> Void) -> any InFlightRequest {
        let at = clock.nowNanos()
        lock.withLock {
            sentOrders.append(Sent(order: order, atNanos: at))
            completions[order.index] = completion
        }
        return FakeRequest(transport: self, index: order.index)
    }

    var sent: [Sent] { lock.withLock { sentOrders } }
    var cancelled: [Int] { lock.withLock { cancelledIndices } }
    var inFlight: [Int] { lock.withLock { completions.keys.sorted() } }

    /// Finishes request `index` (it must be in flight) as `outcome`.
    func complete(_ index: Int, outcome: RequestOutcome = .ok) {
        let (completion, order) = lock.withLock {
            (completions.removeValue(forKey: index), sentOrders.last { $0.order.index == index }?.order)
        }
        guard let completion, let order else {
            Issue.record("request \(index) is not in flight")
            return
        }
        let now = clock.nowNanos()
        completion(
            RequestTrace(
                index: index, isWarmup: order.isWarmup, promptIndex: order.promptIndex,
                scheduledAtNanos: order.scheduledAtNanos, startedAtNanos: now, endedAtNanos: now, outcome: outcome))
    }

    fileprivate func cancel(_ index: Int) {
        let inFlight = lock.withLock {
            cancelledIndices.append(index)
            return completions[index] != nil
        }
        if inFlight { complete(index, outcome: .failed(.cancelled, detail: "cancelled")) }
    }
}

private struct FakeRequest: InFlightRequest {
    let transport: FakeTransport
    let index: Int

    func cancel() { transport.cancel(index) }
}

/// Waits (yielding, then sleeping 1 ms at a time, at most 10 s) until `condition` holds; a
/// test fails here rather than hangs when the driver never gets there.
func eventually(
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool
) async {
    for attempt in 0..<10_000 {
        if condition() { return }
        if attempt < 100 { await Task.yield() } else { try? await Task.sleep(for: .milliseconds(1)) }
    }
    Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
}
