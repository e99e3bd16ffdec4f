import CCurl
import LLMPerfCore

/// One request in flight: its easy handle and everything the write callback records. Created,
/// used and destroyed on the loop thread only.
final class CurlTransfer {
    enum BodyMode {
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
    var response = ResponseAccumulator()
    var mode = BodyMode.undecided
    var body: [UInt8] = []
    var status = 0
    let startedAt: UInt64
    var lastByteAt: UInt64 = 0
    /// Absolute deadlines checked by the loop (0: none).
    let firstTokenDeadline: UInt64
    let idleLimit: UInt64
    var hasLoopDeadlines: Bool { firstTokenDeadline != 0 || idleLimit != 0 }

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
        let t = request.config.timeouts
        firstTokenDeadline = t.firstToken.map { now &+ Self.nanos($0) } ?? 0
        idleLimit = t.idle.map { max(Self.nanos($0), 1) } ?? 0
        configure()
    }

    deinit {
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
    }

    static func nanos(_ d: Duration) -> UInt64 {
        let (s, atto) = d.components
        guard s >= 0 else { return 0 }
        return UInt64(s) &* 1_000_000_000 &+ UInt64(atto / 1_000_000_000)
    }

    private static func millis(_ d: Duration) -> Int {
        let n = nanos(d)
        return n == 0 ? 0 : Int(max(1, (n + 999_999) / 1_000_000))
    }

    private func configure() {
        let c = request.config
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = ccurl_setopt_string(easy, CURLOPT_URL, c.url)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        _ = ccurl_setopt_pointer(easy, CURLOPT_PRIVATE, me)
        _ = ccurl_setopt_write_function(easy, curlTransferWriteCallback)
        _ = ccurl_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        _ = ccurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)

        _ = ccurl_setopt_long(easy, CURLOPT_POST, 1)
        _ = ccurl_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        request.body.withUnsafeBytes { raw in
            // COPYPOSTFIELDS copies the bytes now, so the transfer holds no pointer into Swift memory.
            _ = ccurl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
        }
        for line in c.headerLines { headerList = curl_slist_append(headerList, line) }
        for line in request.extraHeaderLines { headerList = curl_slist_append(headerList, line) }
        _ = ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)

        if c.connection == .new {
            // A new connection each time: DNS, TCP and TLS are paid and measured every request.
            _ = ccurl_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1)
            _ = ccurl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1)
            _ = ccurl_setopt_long(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0)
        }
        switch c.http {
        case .http1_1:
            _ = ccurl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        case .http2:
            // https: negotiate h2 with ALPN; http: h2c with prior knowledge (no Upgrade dance,
            // which would cost a round trip and cannot carry a POST body upgrade).
            // Known gap: with libcurl 7.88.1, a second request on an h2c connection fails with
            // CURLE_HTTP2 "Error in the HTTP2 framing layer" against nghttpd (the curl tool does
            // the same: `curl --http2-prior-knowledge URL URL`); h2c with `connection: new` and
            // h2 over TLS work.
            let version =
                c.url.lowercased().hasPrefix("https:") ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
            _ = ccurl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(version))
            // Wait for an existing connection to multiplex on rather than opening another.
            _ = ccurl_setopt_long(easy, CURLOPT_PIPEWAIT, 1)
        }
        if c.tls.insecure {
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
        } else {
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        }
        if let ca = c.tls.caFile { _ = ccurl_setopt_string(easy, CURLOPT_CAINFO, ca) }
        if let connect = c.timeouts.connect {
            _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.millis(connect))
        }
        if let total = c.timeouts.total { _ = ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.millis(total)) }
    }

    // MARK: receiving (write callback, loop thread)

    /// Returns false to abort the transfer (the failure is already recorded).
    func received(_ bytes: UnsafeRawBufferPointer, at now: UInt64) -> Bool {
        lastByteAt = now
        if mode == .undecided { decideMode() }
        switch mode {
        case .events:
            response.eventAtNanos = now &- min(origin, now)
            let dialect = self.dialect
            parser.feed(bytes) { event in
                dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
            }
            return response.failureKind == nil
        case .whole:
            if body.count + bytes.count > Self.wholeBodyCapBytes {
                response.fail(.decode, "response body larger than \(Self.wholeBodyCapBytes) bytes")
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

    private func decideMode() {
        var code = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        status = code
        if code < 200 || code >= 300 {
            mode = .errorBody
            return
        }
        guard request.config.streaming else {
            mode = .whole
            return
        }
        var type: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(easy, CURLINFO_CONTENT_TYPE, &type)
        let contentType = type.map { String(cString: $0).lowercased() } ?? ""
        // A server that ignored `stream: true` answers with one JSON body.
        mode = contentType.contains("json") && !contentType.contains("event-stream") ? .whole : .events
    }

    // MARK: finishing

    /// Builds the trace. `override` is a failure the loop decided (timeout, cancellation).
    func finish(result: CURLcode, override: (FailureKind, String)?, now: UInt64) -> RequestTrace {
        func info(_ i: CURLINFO) -> UInt64 {
            var us: curl_off_t = 0
            _ = ccurl_getinfo_off_t(easy, i, &us)
            return us > 0 ? UInt64(us) &* 1000 : 0
        }
        var dns = info(CURLINFO_NAMELOOKUP_TIME_T)
        var connect = info(CURLINFO_CONNECT_TIME_T)
        var tls = info(CURLINFO_APPCONNECT_TIME_T)
        let sent = info(CURLINFO_PRETRANSFER_TIME_T)
        let firstByte = info(CURLINFO_STARTTRANSFER_TIME_T)
        var connects = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        var version = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        var code = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        if status == 0 { status = code }
        var ip: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(easy, CURLINFO_PRIMARY_IP, &ip)
        var port = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_PRIMARY_PORT, &port)
        let reused = connects == 0 && sent > 0
        if reused {
            dns = 0
            connect = 0
            tls = 0
        }
        var address = ""
        if let ip, ip.pointee != 0 {
            let host = String(cString: ip)
            address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        let outcome = classify(result: result, override: override, sentNanos: sent, now: now)
        return RequestTrace(
            index: request.index, isWarmup: request.isWarmup, promptIndex: request.promptIndex,
            scheduledAtNanos: request.scheduledAtNanos, startedAtNanos: startedAt &- min(origin, startedAt),
            dnsNanos: dns, connectNanos: connect, tlsNanos: tls, sentNanos: sent,
            firstByteNanos: firstByte > 0 ? firstByte : nil, chunkAtNanos: response.chunkAtNanos,
            chunkTokens: response.chunkTokens, endedAtNanos: now &- min(origin, now), usage: response.usage,
            outcome: outcome,
            connection: ConnectionInfo(
                reused: reused, httpVersion: Self.versionName(version), remoteAddress: address),
            httpStatus: status, outputText: response.outputText)
    }

    private func classify(result: CURLcode, override: (FailureKind, String)?, sentNanos: UInt64, now: UInt64)
        -> RequestOutcome
    {
        if let (kind, detail) = override { return .failed(kind, detail: detail) }
        if result == CURLE_OPERATION_TIMEDOUT {
            let t = request.config.timeouts
            let elapsed = now &- startedAt
            let totalLimit = t.total.map(Self.nanos)
            let inConnect = sentNanos == 0 && t.connect != nil && (totalLimit.map { elapsed < $0 } ?? true)
            return .failed(.timeout(inConnect ? .connect : .total), detail: curlDetail(result))
        }
        if status >= 300 || (status > 0 && status < 200) {
            let text = String(decoding: body.prefix(Self.errorBodyCapBytes), as: UTF8.self)
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
                return .failed(.streamCut, detail: "stream ended before [DONE]")
            }
            return .ok
        case .undecided, .errorBody:
            return .failed(.streamCut, detail: "empty response")
        }
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
