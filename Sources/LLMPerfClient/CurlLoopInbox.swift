import CCurl
import Foundation
import LLMPerfCore

/// A request waiting for the loop thread to pick it up.
struct CurlSubmission: Sendable {
    let handle: RequestHandle
    let request: TransportRequest
    let completion: @Sendable (RequestTrace) -> Void
}

/// The only state shared between callers and the loop thread: a lock-protected queue of new
/// requests and cancellations, and the multi handle's wake-up (`curl_multi_wakeup` is the one
/// libcurl call that is safe from any thread).
final class CurlLoopInbox: @unchecked Sendable {
    let lock = NSLock()
    /// Owned by the loop thread; other threads only pass it to `curl_multi_wakeup`.
    let multi: UnsafeMutableRawPointer
    private var pending: [CurlSubmission] = []
    private var cancels: [UInt64] = []
    private var nextID: UInt64 = 1
    private var shuttingDown = false
    private var finished = false
    private let exited = DispatchSemaphore(value: 0)

    init(multi: UnsafeMutableRawPointer) { self.multi = multi }

    func makeHandle() -> RequestHandle {
        lock.lock()
        defer { lock.unlock() }
        let id = nextID
        nextID += 1
        return RequestHandle(id: id)
    }

    /// False when the loop is shutting down (the caller completes the request itself).
    func enqueue(_ submission: CurlSubmission) -> Bool {
        lock.lock()
        if shuttingDown {
            lock.unlock()
            return false
        }
        pending.append(submission)
        curl_multi_wakeup(multi)  // under the lock: the multi handle outlives every wake-up
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
        cancels.append(handle.id)
        curl_multi_wakeup(multi)
        lock.unlock()
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
        if !shuttingDown && !finished { curl_multi_wakeup(multi) }
        shuttingDown = true
        lock.unlock()
    }

    /// Loop thread, last thing before it cleans up the multi handle: no wake-up follows.
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
