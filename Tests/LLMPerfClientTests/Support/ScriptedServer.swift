import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One request as the scripted server read it.
struct ScriptedRequest: Sendable {
    var method: String
    var path: String
    var headers: [String: String]
    var body: [UInt8]
    /// Which accepted connection carried it (0, 1, …) and its position on that connection.
    var connection: Int
    var sequenceOnConnection: Int
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the server does for one request, step by step.
enum ScriptStep: Sendable {
    /// Status line and headers; `chunked` frames every later `send` as an HTTP/1.1 chunk.
    case head(status: Int, contentType: String = "text/event-stream", chunked: Bool = true, extra: [String] = [])
    case send(String)
    case sleep(milliseconds: Int)
    /// Never answers again (until the client goes away or the server stops).
    case stall
    /// Closes the connection abruptly, mid-response.
    case cut
    /// Ends a chunked body (`0\r\n\r\n`).
    case finish
    /// Bytes written as they are (no chunk framing).
    case raw(String)
    /// Runs `action` on the connection's thread (e.g. waits for a test's signal, or gives one).
    case call(@Sendable () -> Void)
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests: plain POSIX sockets, one thread per
/// connection, keep-alive, and a script per request. It counts requests, connections and the
/// most requests it ever had in progress at once.
final class ScriptedServer: @unchecked Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let script: @Sendable (ScriptedRequest) -> [ScriptStep]
    private let rawOnConnect: String?
    private let lock = NSLock()
    private var stopped = false
    private var connectionFDs: Set<Int32> = []
    private var connections = 0
    private var requests: [ScriptedRequest] = []
    private var inProgress = 0
    private var maxInProgress = 0
    private var requestArrivals: [UInt64] = []

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var url: String { baseURL + "/v1/chat/completions" }

    /// `rawOnConnect`: answer every connection at once with these bytes and close (no request
    /// is read), e.g. to make a TLS handshake fail.
    init(rawOnConnect: String? = nil, script: @escaping @Sendable (ScriptedRequest) -> [ScriptStep] = { _ in [] })
        throws
    {
        self.script = script
        self.rawOnConnect = rawOnConnect
        let (fd, port) = try Self.listen(backlog: 256)
        self.listenFD = fd
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    var requestCount: Int { locked { requests.count } }
    var connectionCount: Int { locked { connections } }
    var maxConcurrentRequests: Int { locked { maxInProgress } }
    var receivedRequests: [ScriptedRequest] { locked { requests } }
    /// CLOCK_MONOTONIC nanoseconds at which each request was fully read.
    var arrivalNanos: [UInt64] { locked { requestArrivals } }

    func stop() {
        // Under the lock, so no descriptor is shut down after its thread closed it (and the
        // number was reused elsewhere); closing twice would do the same harm.
        locked {
            if stopped { return }
            stopped = true
            shutdown(listenFD, Int32(SHUT_RDWR))
            close(listenFD)
            for fd in connectionFDs { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    static func listen(backlog: Int32) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && Glibc.listen(fd, backlog) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let index: Int? = locked {
                if stopped { return nil }
                connectionFDs.insert(fd)
                connections += 1
                return connections - 1
            }
            guard let index else {
                close(fd)
                return
            }
            let thread = Thread { [self] in
                serve(fd: fd, connection: index)
                locked {
                    _ = connectionFDs.remove(fd)
                    close(fd)
                }
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    private func serve(fd: Int32, connection: Int) {
        if let rawOnConnect {
            write(fd, rawOnConnect)
            return
        }
        var buffer: [UInt8] = []
        var sequence = 0
        while let request = readRequest(fd: fd, buffer: &buffer, connection: connection, sequence: sequence) {
            sequence += 1
            locked {
                requests.append(request)
                requestArrivals.append(Self.monotonicNanos())
                inProgress += 1
                maxInProgress = max(maxInProgress, inProgress)
            }
            let keepOpen = run(script(request), fd: fd)
            locked { inProgress -= 1 }
            if !keepOpen { return }
        }
    }

    /// Runs one response; false when the connection must close.
    private func run(_ steps: [ScriptStep], fd: Int32) -> Bool {
        var chunked = false
        for step in steps {
            if locked({ stopped }) { return false }
            switch step {
            case .head(let status, let contentType, let isChunked, let extra):
                chunked = isChunked
                var head = "HTTP/1.1 \(status) \(status < 400 ? "OK" : "Error")\r\nContent-Type: \(contentType)\r\n"
                head += isChunked ? "Transfer-Encoding: chunked\r\n" : ""
                for line in extra { head += line + "\r\n" }
                guard write(fd, head + "\r\n") else { return false }
            case .send(let text):
                let bytes = Array(text.utf8)
                let framed = chunked ? String(bytes.count, radix: 16) + "\r\n" + text + "\r\n" : text
                guard write(fd, framed) else { return false }
            case .sleep(let ms):
                usleep(useconds_t(ms * 1000))
            case .stall:
                var probe: UInt8 = 0
                // Blocks until the client closes (0) or the server stops (shutdown).
                while recv(fd, &probe, 1, 0) > 0 {}
                return false
            case .cut:
                shutdown(fd, Int32(SHUT_RDWR))
                return false
            case .finish:
                guard write(fd, "0\r\n\r\n") else { return false }
            case .raw(let text):
                guard write(fd, text) else { return false }
            case .call(let action):
                action()
            }
        }
        return true
    }

    @discardableResult
    private func write(_ fd: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    private func readRequest(fd: Int32, buffer: inout [UInt8], connection: Int, sequence: Int) -> ScriptedRequest? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while true {
            if let r = find(terminator, in: buffer) {
                headerEnd = r
                break
            }
            guard fill(fd, &buffer) else { return nil }
        }
        guard let headerEnd else { return nil }
        let head = String(decoding: buffer[0..<headerEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headerEnd + 4
        while buffer.count < bodyStart + length {
            guard fill(fd, &buffer) else { return nil }
        }
        let body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        return ScriptedRequest(
            method: requestLine.first.map(String.init) ?? "", path: requestLine.count > 1 ? String(requestLine[1]) : "",
            headers: headers, body: body, connection: connection, sequenceOnConnection: sequence)
    }

    private func fill(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { chunk in
            let n = recv(fd, chunk.baseAddress, chunk.count, 0)
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
    }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count)
        where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Ready-made scripts.
enum Scripts {
    static func chatChunk(_ content: String) -> String {
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\(content)\"},\"finish_reason\":null}]}\n\n"
    }

    static let roleChunk =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n"
    static let finishChunk = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"

    static func usageChunk(prompt: Int, completion: Int) -> String {
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completion)}}\n\n"
    }

    /// A full OpenAI chat stream of `tokens` content chunks, `gapMs` apart.
    static func chatStream(tokens: Int, gapMs: Int = 0, usage: Bool = true) -> [ScriptStep] {
        var steps: [ScriptStep] = [.head(status: 200), .send(roleChunk)]
        for i in 0..<tokens {
            if gapMs > 0 { steps.append(.sleep(milliseconds: gapMs)) }
            steps.append(.send(chatChunk("t\(i) ")))
        }
        steps.append(.send(finishChunk))
        if usage { steps.append(.send(usageChunk(prompt: 5, completion: tokens))) }
        steps.append(.send("data: [DONE]\n\n"))
        steps.append(.finish)
        return steps
    }
}
