import CCurl
import Foundation
import LLMPerfCore

/// A request waiting for the loop thread to pick it up, with its transfer made and configured
/// by the submitting thread (nil when `curl_easy_init` failed). The transfer is handed over
/// once, through the inbox lock, and is touched only by the loop thread afterwards (or by
/// the submitter again when the inbox refuses it).
struct CurlSubmission: @unchecked Sendable {
    let handle: RequestHandle
    let request: TransportRequest
    let completion: @Sendable (RequestTrace) -> Void
    let transfer: CurlTransfer?
}

/// The only state shared between callers and the loop thread: a lock-protected queue of new
/// requests and cancellations, and the poller's wake-up (the one poller call that is safe
/// from any thread).
final class CurlLoopInbox: @unchecked Sendable {
    let lock = NSLock()
    /// Owned by the loop thread.
    let multi: UnsafeMutableRawPointer
    /// Owned by the loop thread; other threads only call `ccurl_poller_wake` on it, under
    /// the lock and before `markFinished` (the loop destroys it after that).
    let poller: UnsafeMutablePointer<ccurl_poller>
    private var pending: [CurlSubmission] = []
    private var cancels: [UInt64] = []
    private var nextID: UInt64 = 1
    private var shuttingDown = false
    private var finished = false
    private let exited = DispatchSemaphore(value: 0)

    init(multi: UnsafeMutableRawPointer, poller: UnsafeMutablePointer<ccurl_poller>) {
        self.multi = multi
        self.poller = poller
    }

    func makeHandle() -> RequestHandle {
        lock.lock()
        defer { lock.unlock() }
        let id = nextID
        nextID += 1
        return RequestHandle(id: id)
    }

    /// Wakes the loop when the queue turns non-empty. Caller holds the lock. Each non-empty
    /// stretch of the queue starts with a wake-up, and the loop drains the whole queue after
    /// every wait, so none is lost.
    private func wakeIfIdle() {
        if pending.isEmpty && cancels.isEmpty && !finished { ccurl_poller_wake(poller) }
    }

    /// False when the loop is shutting down (the caller completes the request itself).
    func enqueue(_ submission: CurlSubmission) -> Bool {
        lock.lock()
        if shuttingDown {
            lock.unlock()
            return false
        }
        wakeIfIdle()
        pending.append(submission)
        lock.unlock()
        return true
    }

    func cancel(_ handle: RequestHandle) {
        lock.lock()
        if handle.cancelRequested || finished {
            lock.unlock()
            return
        }
        handle.cancelRequested = true
        wakeIfIdle()
        cancels.append(handle.id)
        lock.unlock()
    }

    /// Loop thread: whether anything waits to be drained (checked between sockets, so a new
    /// request goes out before the remaining reads are handled).
    var hasWork: Bool {
        // Never waits: while a submitter holds the lock, its work is seen at the next check
        // (or at the wake-up it sends), so the loop thread is not held up behind a submitter
        // that lost its processor.
        guard lock.try() else { return false }
        defer { lock.unlock() }
        return !pending.isEmpty || !cancels.isEmpty || shuttingDown
    }

    /// Loop thread: everything queued since the last call. `cancelled` tells, for each new
    /// submission, whether it was cancelled before the loop saw it.
    func drain(
        into submissions: inout [(CurlSubmission, cancelled: Bool)], cancels outCancels: inout [UInt64]
    ) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        for s in pending { submissions.append((s, s.handle.cancelRequested)) }
        pending.removeAll(keepingCapacity: true)
        outCancels.append(contentsOf: cancels)
        cancels.removeAll(keepingCapacity: true)
        return shuttingDown
    }

    func requestShutdown() {
        lock.lock()
        if !shuttingDown && !finished { ccurl_poller_wake(poller) }
        shuttingDown = true
        lock.unlock()
    }

    /// Loop thread, last thing before it destroys the poller and the multi handle: no
    /// wake-up follows.
    func markFinished() {
        lock.lock()
        finished = true
        lock.unlock()
        exited.signal()
    }

    func waitUntilFinished() {
        exited.wait()
        exited.signal()
    }
}
