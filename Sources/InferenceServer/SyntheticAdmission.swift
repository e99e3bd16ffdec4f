import NIOConcurrencyHelpers

/// The synthetic engine's batch: how many requests generate at once (`--max-running B`; the rest wait in
/// FIFO order) and how many do now, which `--itl-per-running-ms` turns into a slower token pace. Shared by
/// every request of one engine.
final class SyntheticAdmission: Sendable {
    private struct State {
        var running = 0
        var waiting: [(id: UInt64, resume: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    /// nil: no limit (every request runs at once).
    let maxRunning: Int?
    private let state = NIOLockedValueBox(State())

    init(maxRunning: Int?) {
        self.maxRunning = maxRunning
    }

    var load: SchedulerLoad {
        state.withLockedValue { SchedulerLoad(waiting: $0.waiting.count, running: $0.running) }
    }

    /// Requests generating now (this one included once admitted).
    var running: Int { state.withLockedValue { $0.running } }

    /// Waits for a slot, first come first served, and says whether it had to wait; throws `CancellationError`
    /// (and gives up its place) when the task is cancelled while it waits. Each successful return is matched by
    /// one `release()`.
    func admit() async throws -> Bool {
        let id: UInt64? = state.withLockedValue { state in
            if state.waiting.isEmpty, state.running < (maxRunning ?? .max) {
                state.running += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return false }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLockedValue { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiting.append((id, continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let removed = state.withLockedValue { state in
                state.waiting.firstIndex { $0.id == id }.map { state.waiting.remove(at: $0).resume }
            }
            removed?.resume(throwing: CancellationError())
        }
        return true
    }

    /// Frees a slot: the longest-waiting request takes it.
    func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
            if !state.waiting.isEmpty {
                return state.waiting.removeFirst().resume  // the slot passes on: running stays the same
            }
            state.running -= 1
            return nil
        }
        next?.resume()
    }
}

/// One request's slot: released once, when the answer ends, fails, is cancelled, or is dropped unread.
final class SyntheticSlot: Sendable {
    private let admission: SyntheticAdmission
    private let held = NIOLockedValueBox(false)

    init(_ admission: SyntheticAdmission) {
        self.admission = admission
    }

    /// Requests generating in the engine now.
    var runningNow: Int { admission.running }

    /// Whether the request had to wait for its slot.
    func admit() async throws -> Bool {
        let waited = try await admission.admit()
        held.withLockedValue { $0 = true }
        return waited
    }

    func release() {
        let wasHeld = held.withLockedValue { held in
            defer { held = false }
            return held
        }
        if wasHeld { admission.release() }
    }

    deinit { release() }
}
