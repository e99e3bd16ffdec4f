import CCurl
import LLMPerfCore

/// One request in flight: its easy handle and everything the write callback records. Created
/// and configured by the submitting thread, then handed to the loop thread (through the inbox
/// lock), which alone uses and destroys it.
final class CurlTransfer {
    enum BodyMode {
        /// No body byte yet, or only whitespace: the first bytes decide (see `sniff`).
        case undecided
        case events
        case whole
        case errorBody
    }

    /// Error bodies keep this much (first KiB) in the failure detail.
    static let errorBodyCapBytes = 1024
    /// A non-streaming body larger than this is a decode failure.
    static let wholeBodyCapBytes = 16 << 20

    let handle: RequestHandle
    let request: TransportRequest
    let completion: @Sendable (RequestTrace) -> Void
    let dialect: any APIDialect
    let origin: UInt64
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    var parser = SSEParser()
    /// The line framer of an NDJSON stream (`StreamFraming.newlineDelimitedJSON`).
    var lines = NDJSONLineFramer()
    var response = ResponseAccumulator()
    var mode = BodyMode.undecided
    /// The whole body (`whole`), the error body's first KiB (`errorBody`), or the first bytes
    /// of an event stream until its first event (`events`, for the failure detail).
    var body: [UInt8] = []
    /// Server-sent events (or NDJSON lines) dispatched so far.
    var eventsSeen = 0
    var status = 0
    let startedAt: UInt64
    /// Set by the pre-request callback just before libcurl writes the request (0: not yet).
    var preRequestAt: UInt64 = 0
    var lastByteAt: UInt64 = 0
    /// Absolute deadlines checked by the loop (0: none).
    let firstTokenDeadline: UInt64
    let idleLimit: UInt64
    var hasLoopDeadlines: Bool { firstTokenDeadline != 0 || idleLimit != 0 }
    /// Why the transfer must not be sent (a libcurl option was refused, HTTP/2 unavailable):
    /// the loop completes it at once as a `transport` failure. Nil when it is ready.
    private(set) var setupFailure: String?

    init?(
        handle: RequestHandle, request: TransportRequest, completion: @escaping @Sendable (RequestTrace) -> Void,
        now: UInt64
    ) {
        guard let easy = curl_easy_init() else { return nil }
        self.handle = handle
        self.request = request
        self.completion = completion
        self.dialect = request.config.dialect
        self.origin = request.config.originNanos
        self.easy = easy
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.startedAt = now
        response.expectedInputs = request.inputCount
        response.textCap = request.textCapBytes
        let t = request.config.timeouts
        firstTokenDeadline = t.firstToken.map { now &+ $0.wholeNanoseconds } ?? 0
        idleLimit = t.idle.map { max($0.wholeNanoseconds, 1) } ?? 0
        setupFailure = configure()
    }

    /// The trace of a transfer that was never sent because `setupFailure` is set.
    func setupFailureTrace(now: UInt64) -> RequestTrace {
        let at = now &- min(origin, now)
        return RequestTrace(
            index: request.index, isWarmup: request.isWarmup, promptIndex: request.promptIndex,
            scheduledAtNanos: request.scheduledAtNanos, startedAtNanos: startedAt &- min(origin, startedAt),
            endedAtNanos: at, outcome: .failed(.transport, detail: setupFailure ?? ""), timingKnown: false)
    }

    /// Called before the loop removes a transfer libcurl has not finished (a timeout, a
    /// cancellation), or when the body itself failed (a malformed event): the connection is left mid-body, so it is closed rather than handed to
    /// the next request. libcurl 7.88.1 already closes an HTTP/1.x connection removed
    /// prematurely; CURLOPT_FORBID_REUSE makes that explicit and version-proof. An HTTP/2
    /// stream is reset by libcurl on its own and its connection stays usable by the others.
    func willAbandon() {
        var version = 0
        if ccurl_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version) != CURLE_OK
            || version != Int(CURL_HTTP_VERSION_2_0)
        {
            _ = ccurl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1)
        }
    }

    deinit {
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
    }

    private static func millis(_ d: Duration) -> Int {
        let n = d.wholeNanoseconds
        return n == 0 ? 0 : Int(max(1, (n + 999_999) / 1_000_000))
    }

    /// Sets every option, checking each result. Returns why the request cannot go out as the
    /// scenario asks (nil when it can): a request is never sent with an option libcurl refused.
    private func configure() -> String? {
        let c = request.config
        let me = Unmanaged.passUnretained(self).toOpaque()
        var failure: String?
        func check(_ result: CURLcode, _ what: @autoclosure () -> String) {
            if result != CURLE_OK && failure == nil {
                failure = "libcurl refused \(what()): \(String(cString: curl_easy_strerror(result)))"
            }
        }
        check(ccurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
        check(ccurl_setopt_string(easy, CURLOPT_URL, c.url), "CURLOPT_URL")
        check(ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        check(ccurl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1), "CURLOPT_TCP_NODELAY")
        check(ccurl_setopt_pointer(easy, CURLOPT_PRIVATE, me), "CURLOPT_PRIVATE")
        check(ccurl_setopt_write_function(easy, curlTransferWriteCallback), "CURLOPT_WRITEFUNCTION")
        check(ccurl_setopt_pointer(easy, CURLOPT_WRITEDATA, me), "CURLOPT_WRITEDATA")

        check(ccurl_setopt_long(easy, CURLOPT_POST, 1), "CURLOPT_POST")
        check(
            ccurl_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)),
            "CURLOPT_POSTFIELDSIZE_LARGE")
        request.body.withUnsafeBytes { raw in
            // COPYPOSTFIELDS copies the bytes now, so the transfer holds no pointer into Swift memory.
            check(
                ccurl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress)),
                "CURLOPT_COPYPOSTFIELDS")
        }
        for line in c.headerLines + request.extraHeaderLines {
            guard let appended = curl_slist_append(headerList, line) else {
                check(CURLE_OUT_OF_MEMORY, "a request header (curl_slist_append)")
                break
            }
            headerList = appended
        }
        check(ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "CURLOPT_HTTPHEADER")

        if c.connection == .new {
            // A new connection each time: DNS, TCP and TLS are paid and measured every request.
            check(ccurl_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1), "CURLOPT_FRESH_CONNECT")
            check(ccurl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1), "CURLOPT_FORBID_REUSE")
            check(ccurl_setopt_long(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0), "CURLOPT_DNS_CACHE_TIMEOUT")
        }
        let secure = c.url.lowercased().hasPrefix("https:")
        switch c.http {
        case .http1_1:
            check(
                ccurl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)),
                "CURLOPT_HTTP_VERSION 1.1")
        case .http2:
            if let missing = CurlFeatures.http2Missing(secure: secure) { return missing }
            // https: negotiate h2 with ALPN; http: h2c with prior knowledge (no Upgrade dance,
            // which would cost a round trip and cannot carry a POST body upgrade).
            // libcurl 7.88.1 cannot send a second POST on a reused h2c connection (CURLE_HTTP2
            // "Error in the HTTP2 framing layer", before any byte goes out; the curl tool does
            // the same: `curl --http2-prior-knowledge -d x URL URL`), so the scenario loader
            // rejects `http: 2` over cleartext with `connection: reuse`; h2c with
            // `connection: new` and h2 over TLS work.
            let version = secure ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
            check(ccurl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(version)), "CURLOPT_HTTP_VERSION 2")
            // Wait for an existing connection to multiplex on rather than opening another.
            check(ccurl_setopt_long(easy, CURLOPT_PIPEWAIT, 1), "CURLOPT_PIPEWAIT")
        }
        if c.tls.insecure {
            check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0), "CURLOPT_SSL_VERIFYPEER 0")
            check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0), "CURLOPT_SSL_VERIFYHOST 0")
        } else if secure {
            check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1), "CURLOPT_SSL_VERIFYPEER 1")
            check(ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2), "CURLOPT_SSL_VERIFYHOST 2")
        }
        if let ca = c.tls.caFile { check(ccurl_setopt_string(easy, CURLOPT_CAINFO, ca), "CURLOPT_CAINFO \(ca)") }
        if let connect = c.timeouts.connect {
            check(
                ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.millis(connect)), "CURLOPT_CONNECTTIMEOUT_MS")
        }
        if let total = c.timeouts.total {
            check(ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.millis(total)), "CURLOPT_TIMEOUT_MS")
        }
        return failure
    }

    // MARK: receiving (write callback, loop thread)

    /// Returns false to abort the transfer (the failure is already recorded).
    func received(_ bytes: UnsafeRawBufferPointer, at now: UInt64) -> Bool {
        lastByteAt = now
        var bytes = bytes
        if mode == .undecided {
            if status == 0 { readStatus() }
            if status < 200 || status >= 300 {
                mode = .errorBody
            } else {
                guard let decided = sniff(&bytes) else { return true }
                mode = decided
            }
        }
        switch mode {
        case .events:
            response.eventAtNanos = now &- min(origin, now)
            let dialect = self.dialect
            if eventsSeen == 0 && body.count < 200 { body.append(contentsOf: bytes.prefix(200 - body.count)) }
            switch dialect.streamFraming {
            case .serverSentEvents:
                parser.feed(bytes) { event in
                    eventsSeen &+= 1
                    dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
                }
                if parser.overflowed {
                    response.fail(.decode, "stream event or line larger than \(parser.maxEventBytes) bytes")
                }
            case .newlineDelimitedJSON:
                feedLines(bytes)
            }
            if response.failureKind != nil {
                willAbandon()
                return false
            }
            return true
        case .whole:
            if body.count + bytes.count > Self.wholeBodyCapBytes {
                response.fail(.decode, "response body larger than \(Self.wholeBodyCapBytes) bytes")
                willAbandon()
                return false
            }
            body.append(contentsOf: bytes)
            return true
        case .errorBody, .undecided:
            let room = Self.errorBodyCapBytes - body.count
            if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
            return true
        }
    }

    /// Hands NDJSON lines to the dialect (an empty name, the line as data).
    private func feedLines(_ bytes: UnsafeRawBufferPointer) {
        let dialect = self.dialect
        let noName = UnsafeRawBufferPointer(start: nil, count: 0)
        lines.feed(bytes) { line in
            eventsSeen &+= 1
            dialect.decodeStreamEvent(name: noName, data: line, into: &response)
        }
        if lines.overflowed {
            response.fail(.decode, "NDJSON line larger than \(lines.maxLineBytes) bytes")
        }
    }

    /// The last NDJSON line, when the body ended without a newline after it.
    private func finishLines(at now: UInt64) {
        guard mode == .events, dialect.streamFraming == .newlineDelimitedJSON, lines.hasPartialLine,
            response.failureKind == nil
        else { return }
        response.eventAtNanos = lastByteAt &- min(origin, lastByteAt)
        let dialect = self.dialect
        let noName = UnsafeRawBufferPointer(start: nil, count: 0)
        lines.finish { line in
            eventsSeen &+= 1
            dialect.decodeStreamEvent(name: noName, data: line, into: &response)
        }
    }

    private func readStatus() {
        var code = 0
        if ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK { status = code }
    }

    /// Decides how a successful body is read from its first bytes, whatever its
    /// `content-type` says (an SSE stream labelled `application/json` is still a stream, and a
    /// server that ignored `stream: true` answers with one JSON body): a body whose first
    /// non-whitespace byte is `{` or `[` is one JSON document, anything else is read as
    /// server-sent events. An NDJSON dialect's stream (`{` first, streaming asked for) is read as
    /// lines. Leading whitespace is dropped from `bytes` (it means nothing to
    /// either format); nil while only whitespace has arrived.
    private func sniff(_ bytes: inout UnsafeRawBufferPointer) -> BodyMode? {
        var i = 0
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D {
            i += 1
        }
        guard i < bytes.count else { return nil }
        bytes = UnsafeRawBufferPointer(rebasing: bytes[i...])
        let first = bytes[0]
        if dialect.streamFraming == .newlineDelimitedJSON {
            // One JSON object per line when streamed; one object when not. Anything else is left
            // to the body decoder, which reports it as `decode`.
            return request.config.streaming && first == 0x7B ? .events : .whole
        }
        if first == 0x7B || first == 0x5B { return .whole }
        // An SSE line starts with a field name or ':'; anything else (an HTML page) is left to
        // the body decoder, which reports it as `decode` with its first bytes.
        let isLetter = (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A
        return isLetter || first == 0x3A ? .events : .whole
    }

    // MARK: finishing

    /// Builds the trace. `override` is a failure the loop decided (timeout, cancellation).
    func finish(result: CURLcode, override: (FailureKind, String)?, now: UInt64) -> RequestTrace {
        let easy = self.easy
        let timing = Self.connectionTiming(
            read: { info in
                var us: curl_off_t = 0
                return ccurl_getinfo_off_t(easy, info, &us) == CURLE_OK ? us : nil
            },
            connects: {
                var n = 0
                return ccurl_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK ? n : nil
            }())
        var version = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        if status == 0 { readStatus() }
        var ip: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(easy, CURLINFO_PRIMARY_IP, &ip)
        var port = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_PRIMARY_PORT, &port)
        var address = ""
        if let ip, ip.pointee != 0 {
            let host = String(cString: ip)
            address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        if result == CURLE_OK && override == nil && (200..<300).contains(status) { finishLines(at: now) }
        let outcome = classify(result: result, override: override, sentNanos: timing.sent, now: now)
        // A server that packs several tokens into one event says so only through `usage`.
        if mode == .events { response.apportionUsageOverChunks() }
        let start = Self.requestStart(
            loopStamp: startedAt, preRequestAt: preRequestAt, pretransferNanos: timing.known ? timing.sent : 0)
        // libcurl's time from its start to the write can exceed the time from the loop's hand-over to the
        // pre-request stamp (seen by 0.5–2 ms at concurrency 4 on a busy machine): the start is then the
        // hand-over, and the write is put back at the pre-request stamp. Without this, a request's "sent" fell
        // after the server had already read it.
        let phases = timing.aligned(start: start, preRequestAt: preRequestAt)
        // What the body said of the server's timings, and a `Server-Timing` header (answers that are not streamed).
        var serverTimings = response.serverTimings
        if let header = header("Server-Timing") {
            var merged = serverTimings ?? ServerTimings()
            merged.merge(ServerTimingsReader.serverTiming(header))
            serverTimings = merged.isEmpty ? nil : merged
        }
        return RequestTrace(
            index: request.index, isWarmup: request.isWarmup, promptIndex: request.promptIndex,
            scheduledAtNanos: request.scheduledAtNanos, startedAtNanos: start &- min(origin, start),
            dnsNanos: phases.dns, connectNanos: phases.connect, tlsNanos: phases.tls, sentNanos: phases.sent,
            firstByteNanos: phases.firstByte > 0 ? phases.firstByte : nil, chunkAtNanos: response.chunkAtNanos,
            chunkTokens: response.chunkTokens, chunkReasoning: response.chunkReasoning,
            endedAtNanos: now &- min(origin, now), usage: response.usage,
            outcome: outcome,
            connection: ConnectionInfo(
                reused: timing.reused, httpVersion: Self.versionName(version), remoteAddress: address),
            httpStatus: status, outputText: response.outputText, timingKnown: timing.known,
            serverTimings: serverTimings)
    }

    struct ConnectionTiming: Equatable {
        var dns: UInt64 = 0
        var connect: UInt64 = 0
        var tls: UInt64 = 0
        var sent: UInt64 = 0
        var firstByte: UInt64 = 0
        var reused = false
        /// False when any read failed: the phases are then unknown (stored as 0 with
        /// `timingKnown` false), and the connection is not called reused.
        var known = true

        /// The phases counted from `start`: when `start` plus libcurl's time to the write falls after the
        /// pre-request stamp, the write (`sent`) and the first byte move back by the difference. The
        /// connection's own phases (DNS, TCP, TLS) stay as libcurl measured them, and the write never comes
        /// before them.
        func aligned(start: UInt64, preRequestAt: UInt64) -> ConnectionTiming {
            guard known, preRequestAt != 0 else { return self }
            let written = start &+ sent
            let late = written &- min(written, preRequestAt)
            guard late > 0 else { return self }
            var t = self
            let connected = max(dns, connect, tls)
            t.sent = max(connected, sent &- min(sent, late))
            if firstByte > 0 { t.firstByte = max(t.sent, firstByte &- min(firstByte, late)) }
            return t
        }
    }

    /// The connection phases from libcurl's timing reads (`read` gives microseconds, nil when
    /// `curl_easy_getinfo` failed; `connects` is CURLINFO_NUM_CONNECTS, nil when its read
    /// failed). A failed read never looks like a reused connection (0 connects, 0 connect time).
    static func connectionTiming(read: (CURLINFO) -> curl_off_t?, connects: Int?) -> ConnectionTiming {
        var t = ConnectionTiming()
        func nanos(_ info: CURLINFO) -> UInt64 {
            guard let us = read(info) else {
                t.known = false
                return 0
            }
            return us > 0 ? UInt64(us) &* 1000 : 0
        }
        t.dns = nanos(CURLINFO_NAMELOOKUP_TIME_T)
        t.connect = nanos(CURLINFO_CONNECT_TIME_T)
        t.tls = nanos(CURLINFO_APPCONNECT_TIME_T)
        t.sent = nanos(CURLINFO_PRETRANSFER_TIME_T)
        t.firstByte = nanos(CURLINFO_STARTTRANSFER_TIME_T)
        guard let connects, t.known else { return ConnectionTiming(known: false) }
        t.reused = connects == 0 && t.sent > 0
        if t.reused {
            t.dns = 0
            t.connect = 0
            t.tls = 0
        }
        return t
    }

    private func classify(result: CURLcode, override: (FailureKind, String)?, sentNanos: UInt64, now: UInt64)
        -> RequestOutcome
    {
        if let (kind, detail) = override { return .failed(kind, detail: detail) }
        if result == CURLE_OPERATION_TIMEDOUT {
            let t = request.config.timeouts
            let elapsed = now &- startedAt
            let totalLimit = t.total.map(\.wholeNanoseconds)
            let inConnect = sentNanos == 0 && t.connect != nil && (totalLimit.map { elapsed < $0 } ?? true)
            return .failed(.timeout(inConnect ? .connect : .total), detail: curlDetail(result))
        }
        if status >= 300 || (status > 0 && status < 200) {
            // The status decides (an HTML error page is `http_503`, never `decode`); the detail
            // keeps the first KiB of the body, after the Retry-After the server asked for.
            var text = String(decoding: body.prefix(Self.errorBodyCapBytes), as: UTF8.self)
            if let retryAfter = header("Retry-After") { text = "Retry-After: \(retryAfter); " + text }
            return .failed(.http(status: status), detail: text)
        }
        if let kind = response.failureKind, result == CURLE_OK || result == CURLE_WRITE_ERROR {
            return .failed(kind, detail: response.failureDetail)
        }
        if result != CURLE_OK {
            return .failed(CurlErrorClassifier.kind(of: result), detail: curlDetail(result))
        }
        switch mode {
        case .whole:
            response.eventAtNanos = lastByteAt &- min(origin, lastByteAt)
            body.withUnsafeBytes { dialect.decodeBody($0, into: &response) }
            body = []
            if let kind = response.failureKind { return .failed(kind, detail: response.failureDetail) }
            return .ok
        case .events:
            if let kind = response.failureKind { return .failed(kind, detail: response.failureDetail) }
            if !dialect.streamIsComplete(response) {
                if dialect.streamFraming == .newlineDelimitedJSON {
                    return .failed(.streamCut, detail: "stream ended before an object with done: true")
                }
                if eventsSeen == 0 {
                    // Bytes arrived, but not one event: this was no event stream.
                    return .failed(
                        .decode,
                        detail: "no server-sent event in the response body: " + String(decoding: body, as: UTF8.self))
                }
                return .failed(.streamCut, detail: "stream ended before [DONE]")
            }
            return .ok
        case .undecided, .errorBody:
            return .failed(.streamCut, detail: "empty response")
        }
    }

    /// A response header's value (the last response's, first instance), nil when absent.
    private func header(_ name: String) -> String? {
        var found: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(easy, name, 0, 1 /* CURLH_HEADER */, -1, &found) == CURLHE_OK, let found,
            let value = found.pointee.value
        else { return nil }
        return String(cString: value)
    }

    private func curlDetail(_ result: CURLcode) -> String {
        let message = String(cString: errorBuffer)
        if !message.isEmpty { return message }
        return String(cString: curl_easy_strerror(result))
    }

    static func versionName(_ v: Int) -> String {
        switch v {
        case Int(CURL_HTTP_VERSION_1_0): return "1.0"
        case Int(CURL_HTTP_VERSION_1_1): return "1.1"
        case Int(CURL_HTTP_VERSION_2_0): return "2"
        case Int(CURL_HTTP_VERSION_3): return "3"
        default: return ""
        }
    }
}

/// libcurl's write callback: timestamps the bytes and hands them to their transfer.
let curlTransferWriteCallback: curl_write_callback = { data, size, nmemb, userdata in
    let now = MonotonicClock.nanos()
    let n = size &* nmemb
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.received(UnsafeRawBufferPointer(start: data, count: n), at: now) ? n : 0
}
