import CCurl
import Foundation
import LLMPerfCore

/// libcurl's multi interface driven by one dedicated thread that owns every curl handle.
///
/// Requests are queued under a lock and the thread is woken through its poller; it adds the
/// easy handle and starts it at once (see `CurlLoopWorker`), timestamps every received chunk
/// in the write callback (CLOCK_MONOTONIC),
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
        guard let poller = ccurl_poller_create() else {
            fatalError("cannot create the curl loop's poller: \(String(cString: strerror(errno)))")
        }
        let inbox = CurlLoopInbox(multi: multi, poller: poller)
        self.inbox = inbox
        let thread = Thread {
            Thread.current.threadDictionary[Self.loopThreadKey] = true
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

    static let loopThreadKey = "llmperf.curl-loop"

    /// Whether the caller runs on a loop's thread (where completions are called: nothing slow may run there).
    static var isOnLoopThread: Bool { Thread.current.threadDictionary[loopThreadKey] != nil }

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
        // The easy handle is made and configured here, on the caller's thread, so the loop
        // thread only adds it and sends: a burst of new requests does not queue behind each
        // other's setup.
        let transfer = CurlTransfer(
            handle: handle, request: request, completion: completion, now: MonotonicClock.nanos())
        if let transfer, transfer.setupFailure == nil {
            let me = Unmanaged.passUnretained(transfer).toOpaque()
            // The start is read back from the moment libcurl writes the request (see
            // `CurlTransfer.requestStart`); if libcurl refuses the callback, the submit stamp stays.
            if ccurl_setopt_prereq_function(transfer.easy, curlTransferPreRequestCallback) == CURLE_OK {
                _ = ccurl_setopt_pointer(transfer.easy, CURLOPT_PREREQDATA, me)
            }
        }
        if !inbox.enqueue(CurlSubmission(handle: handle, request: request, completion: completion, transfer: transfer))
        {
            if let transfer { curl_easy_cleanup(transfer.easy) }
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
///
/// It drives libcurl's socket-action interface: libcurl names the sockets it waits on
/// (`curlLoopSocketCallback`) and its next timeout (`curlLoopTimerCallback`), the poller
/// reports ready sockets, and each is handed to `curl_multi_socket_action` alone. A new request
/// is added and started (`CURL_SOCKET_TIMEOUT` runs just the transfers whose timer is due: the
/// new one) as soon as the loop sees it, also between two ready sockets of one wake-up, so it
/// is written before the other streams' pending reads are drained, and no pass over every
/// transfer is made per wake-up.
final class CurlLoopWorker {
    private let inbox: CurlLoopInbox
    fileprivate let multi: UnsafeMutableRawPointer
    fileprivate let poller: UnsafeMutablePointer<ccurl_poller>
    private var active: [UInt64: CurlTransfer] = [:]
    private var deadlineCount = 0
    private var newSubmissions: [(CurlSubmission, cancelled: Bool)] = []
    private var newCancels: [UInt64] = []
    private var nextDeadlineScan: UInt64 = 0
    /// Sockets libcurl waits to write on (connecting, or a request not yet fully sent).
    fileprivate var writeInterest = Set<Int32>()
    private let writableFDs = UnsafeMutablePointer<Int32>.allocate(capacity: maxEvents)
    private let writableEvents = UnsafeMutablePointer<Int32>.allocate(capacity: maxEvents)
    /// libcurl's next timeout (absolute CLOCK_MONOTONIC nanoseconds), nil when it has none.
    fileprivate var timerDeadline: UInt64?
    private var shuttingDown = false
    /// How often first-token and idle limits are checked while any transfer has one.
    private static let deadlineGranularityNanos: UInt64 = 1_000_000
    /// Ready sockets taken per wait.
    private static let maxEvents = 256

    init(inbox: CurlLoopInbox) {
        self.inbox = inbox
        self.multi = inbox.multi
        self.poller = inbox.poller
    }

    deinit {
        writableFDs.deallocate()
        writableEvents.deallocate()
    }

    func run() {
        let me = Unmanaged.passUnretained(self).toOpaque()
        // Without these two callbacks nothing could be driven: fail loudly rather than hang.
        precondition(
            ccurl_multi_setopt_socket_function(multi, curlLoopSocketCallback) == CURLM_OK
                && ccurl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, me) == CURLM_OK
                && ccurl_multi_setopt_timer_function(multi, curlLoopTimerCallback) == CURLM_OK
                && ccurl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, me) == CURLM_OK,
            "libcurl refused the socket-action callbacks")
        let fds = UnsafeMutablePointer<Int32>.allocate(capacity: Self.maxEvents)
        let events = UnsafeMutablePointer<Int32>.allocate(capacity: Self.maxEvents)
        defer {
            fds.deallocate()
            events.deallocate()
        }
        while !shuttingDown {
            serviceInbox()
            if shuttingDown { break }
            runTimerIfDue()
            if deadlineCount > 0 { checkDeadlines() }
            var woken: Int32 = 0
            let n = Int(ccurl_poller_wait(poller, fds, events, Int32(Self.maxEvents), pollTimeoutMillis(), &woken))
            if woken != 0 { serviceInbox() }
            // Sockets libcurl wants to write (connects completing, requests going out) first,
            // then the reads; new requests (and cancels) go before any next socket.
            for writesPass in [true, false] {
                for i in 0..<max(n, 0) where Self.isWrite(events[i]) == writesPass {
                    if shuttingDown { break }
                    if inbox.hasWork { serviceInbox() }
                    act(on: fds[i], events[i])
                }
            }
        }
        for t in Array(active.values) { abort(t, .cancelled, "transport shut down") }
        inbox.markFinished()
        curl_multi_cleanup(multi)
        ccurl_poller_destroy(poller)
    }

    private static func isWrite(_ event: Int32) -> Bool { event & (CURL_CSELECT_OUT | CURL_CSELECT_ERR) != 0 }

    private func act(on socket: Int32, _ event: Int32) {
        var running: Int32 = 0
        curl_multi_socket_action(multi, socket, event, &running)
        collectFinished()
    }

    /// While connections are being opened or requests written, hands libcurl the sockets that
    /// became writable (without waiting), so those requests go out before more new ones are
    /// started and before any read. Reads stay for the main wait (the poller is level-triggered).
    private func serviceWritable() {
        var woken: Int32 = 0
        let n = Int(ccurl_poller_wait(poller, writableFDs, writableEvents, Int32(Self.maxEvents), 0, &woken))
        if woken != 0 { ccurl_poller_wake(poller) }  // the main wait still sees the inbox
        for i in 0..<max(n, 0) where Self.isWrite(writableEvents[i]) {
            act(on: writableFDs[i], writableEvents[i])
        }
    }

    /// Starts what was submitted and applies cancellations; sets `shuttingDown`.
    private func serviceInbox() {
        shuttingDown = inbox.drain(into: &newSubmissions, cancels: &newCancels) || shuttingDown
        for (submission, cancelled) in newSubmissions {
            if cancelled || shuttingDown {
                if let t = submission.transfer { curl_easy_cleanup(t.easy) }
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
    }

    /// Runs libcurl's timeouts when due: the transfers just added (their timer is 0), retries,
    /// connect and total limits.
    private func runTimerIfDue() {
        guard let deadline = timerDeadline, deadline <= MonotonicClock.nanos() else { return }
        runTimer()
    }

    private func runTimer() {
        timerDeadline = nil  // libcurl sets the next one from inside the call
        var running: Int32 = 0
        curl_multi_socket_action(multi, ccurl_socket_timeout, 0, &running)
        collectFinished()
    }

    private func pollTimeoutMillis() -> Int32 {
        var millis: UInt64 = deadlineCount > 0 ? 1 : 1000
        if let deadline = timerDeadline {
            let now = MonotonicClock.nanos()
            millis = deadline <= now ? 0 : min(millis, (deadline - now + 999_999) / 1_000_000)
        }
        return Int32(millis)
    }

    private func start(_ s: CurlSubmission) {
        guard let t = s.transfer else {
            var trace = CurlMultiLoop.cancelledTrace(s.request, detail: "")
            trace.outcome = .failed(.transport, detail: "curl_easy_init failed")
            s.completion(trace)
            return
        }
        if t.setupFailure != nil {
            // A libcurl option was refused: nothing is sent (see CurlTransfer.configure).
            let trace = t.setupFailureTrace(now: MonotonicClock.nanos())
            curl_easy_cleanup(t.easy)
            t.completion(trace)
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
            return
        }
        // Send it now (or open its connection): only transfers whose timer is due run, so the
        // other streams' reads wait.
        runTimer()
        if !writeInterest.isEmpty { serviceWritable() }
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
        t.willAbandon()  // before removal: the half-read connection is closed, never reused
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

/// libcurl names a socket to wait on (or to forget): the poller follows.
private let curlLoopSocketCallback: curl_socket_callback = { _, socket, what, userp, socketp in
    guard let userp else { return 0 }
    let worker = Unmanaged<CurlLoopWorker>.fromOpaque(userp).takeUnretainedValue()
    if what == CURL_POLL_REMOVE {
        ccurl_poller_remove(worker.poller, socket)
        worker.writeInterest.remove(socket)
        return 0
    }
    if what & CURL_POLL_OUT != 0 {
        worker.writeInterest.insert(socket)
    } else {
        worker.writeInterest.remove(socket)
    }
    // libcurl hands back what was assigned to a socket: non-nil once the poller has it.
    guard ccurl_poller_set(worker.poller, socket, what, socketp == nil ? 0 : 1) == 0 else {
        return -1  // libcurl fails its transfers
    }
    if socketp == nil { curl_multi_assign(worker.multi, socket, registeredSocketMarker) }
    return 0
}

/// What `curl_multi_assign` attaches to a socket the poller follows (only its being non-nil counts).
private nonisolated(unsafe) let registeredSocketMarker = UnsafeMutableRawPointer(bitPattern: 1)

/// libcurl's next timeout: -1 none, 0 as soon as possible, else milliseconds from now.
private let curlLoopTimerCallback: curl_multi_timer_callback = { _, timeoutMillis, userp in
    guard let userp else { return 0 }
    let worker = Unmanaged<CurlLoopWorker>.fromOpaque(userp).takeUnretainedValue()
    worker.timerDeadline =
        timeoutMillis < 0 ? nil : MonotonicClock.nanos() &+ UInt64(timeoutMillis) &* 1_000_000
    return 0
}

/// Called by libcurl right before it writes the request (after any connection setup):
/// stamps the moment.
private let curlTransferPreRequestCallback: curl_prereq_callback = { clientp, _, _, _, _ in
    let now = MonotonicClock.nanos()
    if let clientp { Unmanaged<CurlTransfer>.fromOpaque(clientp).takeUnretainedValue().preRequestAt = now }
    return 0  // CURL_PREREQFUNC_OK
}

extension CurlTransfer {
    /// When this request started, absolute: the moment libcurl began the transfer, which is
    /// the pre-request stamp (`preRequestAt`, taken just before the request's first byte is
    /// written) less libcurl's own time from its start to that point (`pretransferNanos`,
    /// CURLINFO_PRETRANSFER_TIME_T: name lookup, connect, TLS, waiting for a connection).
    /// So the connection phases, measured by libcurl from the same start, stay consistent with
    /// it, and no time the transfer spent queued in the loop thread counts as latency. Falls
    /// back to `loopStamp` (when the loop took the request) when the request was never written
    /// or its timing is unknown; never earlier than `loopStamp`.
    static func requestStart(loopStamp: UInt64, preRequestAt: UInt64, pretransferNanos: UInt64) -> UInt64 {
        guard preRequestAt != 0, pretransferNanos <= preRequestAt else { return loopStamp }
        return max(loopStamp, preRequestAt - pretransferNanos)
    }
}
