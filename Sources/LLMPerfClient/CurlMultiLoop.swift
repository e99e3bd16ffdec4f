import CCurl
import Foundation
import LLMPerfCore

/// libcurl's multi interface driven by one dedicated thread that owns every curl handle.
///
/// Requests are queued under a lock and the thread is woken with `curl_multi_wakeup`; it adds
/// the easy handle, timestamps every received chunk in the write callback (CLOCK_MONOTONIC),
/// enforces the first-token and idle limits itself, and hands back a Sendable `RequestTrace`
/// through the request's completion (called on the loop thread: keep it short).
public final class CurlMultiLoop: Sendable {
    private let inbox: CurlLoopInbox

    /// `maxConnections` sizes libcurl's connection cache (keep it ≥ the concurrency so
    /// connections are reused at high concurrency).
    public init(maxConnections: Int = 1024) {
        CurlGlobal.initialize()
        let multi = curl_multi_init()!
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(maxConnections, 16))
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, 2)  // CURLPIPE_MULTIPLEX
        let inbox = CurlLoopInbox(multi: multi)
        self.inbox = inbox
        let thread = Thread {
            let worker = CurlLoopWorker(inbox: inbox)
            worker.run()
        }
        thread.name = "llmperf-curl"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        inbox.requestShutdown()
    }

    /// Sends `request`; `completion` receives its trace on the loop thread.
    @discardableResult
    public func submit(_ request: TransportRequest, completion: @escaping @Sendable (RequestTrace) -> Void)
        -> RequestHandle
    {
        let handle = inbox.makeHandle()
        submit(request, handle: handle, completion: completion)
        return handle
    }

    private func submit(
        _ request: TransportRequest, handle: RequestHandle, completion: @escaping @Sendable (RequestTrace) -> Void
    ) {
        if !inbox.enqueue(CurlSubmission(handle: handle, request: request, completion: completion)) {
            completion(Self.cancelledTrace(request, detail: "transport shut down"))
        }
    }

    /// Aborts a request: it completes as `cancelled`, keeping what it received.
    public func cancel(_ handle: RequestHandle) {
        inbox.cancel(handle)
    }

    /// Sends `request` and waits for its trace. Cancelling the calling task aborts it.
    public func perform(_ request: TransportRequest) async -> RequestTrace {
        let handle = inbox.makeHandle()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RequestTrace, Never>) in
                submit(request, handle: handle) { continuation.resume(returning: $0) }
            }
        } onCancel: {
            inbox.cancel(handle)
        }
    }

    /// Aborts everything in flight (as `cancelled`), stops the thread and waits for it.
    public func shutdown() {
        inbox.requestShutdown()
        inbox.waitUntilFinished()
    }

    static func cancelledTrace(_ request: TransportRequest, detail: String) -> RequestTrace {
        let now = MonotonicClock.nanos()
        let origin = request.config.originNanos
        let t = now &- min(origin, now)
        return RequestTrace(
            index: request.index, isWarmup: request.isWarmup, promptIndex: request.promptIndex,
            scheduledAtNanos: request.scheduledAtNanos, startedAtNanos: t, endedAtNanos: t,
            outcome: .failed(.cancelled, detail: detail))
    }
}

/// The loop thread's state: every transfer in flight, keyed by request id.
final class CurlLoopWorker {
    private let inbox: CurlLoopInbox
    private let multi: UnsafeMutableRawPointer
    private var active: [UInt64: CurlTransfer] = [:]
    private var deadlineCount = 0
    private var newSubmissions: [(CurlSubmission, cancelled: Bool)] = []
    private var newCancels: [UInt64] = []
    private var nextDeadlineScan: UInt64 = 0
    /// How often first-token and idle limits are checked while any transfer has one.
    private static let deadlineGranularityNanos: UInt64 = 1_000_000

    init(inbox: CurlLoopInbox) {
        self.inbox = inbox
        self.multi = inbox.multi
    }

    func run() {
        var running: Int32 = 0
        while true {
            let shuttingDown = inbox.drain(into: &newSubmissions, cancels: &newCancels)
            for (submission, cancelled) in newSubmissions {
                if cancelled || shuttingDown {
                    submission.completion(CurlMultiLoop.cancelledTrace(submission.request, detail: "cancelled"))
                } else {
                    start(submission)
                }
            }
            newSubmissions.removeAll(keepingCapacity: true)
            for id in newCancels {
                if let t = active[id] { abort(t, .cancelled, "cancelled") }
            }
            newCancels.removeAll(keepingCapacity: true)
            if shuttingDown {
                for t in Array(active.values) { abort(t, .cancelled, "transport shut down") }
                break
            }

            curl_multi_perform(multi, &running)
            collectFinished()
            if deadlineCount > 0 { checkDeadlines() }

            let timeoutMs: Int32 = deadlineCount > 0 ? 1 : 1000
            curl_multi_poll(multi, nil, 0, timeoutMs, nil)
        }
        inbox.markFinished()
        curl_multi_cleanup(multi)
    }

    private func start(_ s: CurlSubmission) {
        let now = MonotonicClock.nanos()
        guard let t = CurlTransfer(handle: s.handle, request: s.request, completion: s.completion, now: now) else {
            var trace = CurlMultiLoop.cancelledTrace(s.request, detail: "")
            trace.outcome = .failed(.transport, detail: "curl_easy_init failed")
            s.completion(trace)
            return
        }
        active[s.handle.id] = t
        if t.hasLoopDeadlines { deadlineCount += 1 }
        let rc = curl_multi_add_handle(multi, t.easy)
        if rc != CURLM_OK {
            remove(t)
            let trace = t.finish(
                result: CURLE_FAILED_INIT,
                override: (.transport, "curl_multi_add_handle: \(String(cString: curl_multi_strerror(rc)))"),
                now: MonotonicClock.nanos())
            curl_easy_cleanup(t.easy)
            t.completion(trace)
        }
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
            var priv: UnsafeMutableRawPointer?
            _ = ccurl_getinfo_pointer(easy, CURLINFO_PRIVATE, &priv)
            guard let priv else { continue }
            let t = Unmanaged<CurlTransfer>.fromOpaque(priv).takeUnretainedValue()
            let result = msg.pointee.data.result
            complete(t, result: result, override: nil)
        }
    }

    private func checkDeadlines() {
        let now = MonotonicClock.nanos()
        guard now >= nextDeadlineScan else { return }
        nextDeadlineScan = now &+ Self.deadlineGranularityNanos
        var expired: [(CurlTransfer, TimeoutPhase)] = []
        for t in active.values where t.hasLoopDeadlines {
            if t.response.contentChunkCount == 0 {
                if t.firstTokenDeadline != 0 && now >= t.firstTokenDeadline { expired.append((t, .firstToken)) }
            } else if t.idleLimit != 0 && now &- max(t.lastByteAt, t.startedAt) >= t.idleLimit {
                expired.append((t, .idle))
            }
        }
        for (t, phase) in expired {
            let limit = phase == .firstToken ? t.request.config.timeouts.firstToken : t.request.config.timeouts.idle
            abort(
                t, .timeout(phase),
                "no \(phase == .firstToken ? "first token" : "data") within \(limit.map { "\($0)" } ?? "")")
        }
    }

    private func abort(_ t: CurlTransfer, _ kind: FailureKind, _ detail: String) {
        complete(t, result: CURLE_ABORTED_BY_CALLBACK, override: (kind, detail))
    }

    private func complete(_ t: CurlTransfer, result: CURLcode, override: (FailureKind, String)?) {
        curl_multi_remove_handle(multi, t.easy)
        remove(t)
        let trace = t.finish(result: result, override: override, now: MonotonicClock.nanos())
        curl_easy_cleanup(t.easy)
        t.completion(trace)
    }

    private func remove(_ t: CurlTransfer) {
        if active.removeValue(forKey: t.handle.id) != nil, t.hasLoopDeadlines { deadlineCount -= 1 }
    }
}
