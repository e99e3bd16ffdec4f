import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP client that records exactly what crosses the wire: every byte, the size of every read, and how the
/// connection ended (EOF, reset, or the safety timeout). Runs on its own thread, like `TestHTTPClient`.
enum RawSocketClient {
    enum Ending: Equatable, Sendable {
        /// recv returned 0: the server closed cleanly (FIN).
        case eof
        /// recv failed with ECONNRESET: the server reset the connection (RST).
        case reset
        /// Nothing arrived for `timeoutSeconds`: the connection was still open.
        case timedOut
        /// The client stopped reading after `stopAfter` bytes.
        case stoppedReading
    }

    struct Exchange: Sendable {
        var bytes: [UInt8]
        /// The size of each successful recv.
        var reads: [Int]
        var ending: Ending

        var text: String { String(decoding: bytes, as: UTF8.self) }

        /// The response head (status line and headers) split off the body; nil without a complete head.
        var response: RawResponse? { RawResponse(bytes) }
    }

    /// Connects to 127.0.0.1:`port`, sends `request` (byte by byte with `byteDelay` between bytes when given, then
    /// stops sending but keeps the connection open), and reads until the server closes or resets the connection,
    /// `stopAfter` bytes arrived, or nothing arrives for `timeoutSeconds`.
    static func exchange(
        port: Int, request: [UInt8], byteDelay: Duration? = nil, stopAfter: Int? = nil, timeoutSeconds: Int = 30
    ) async throws -> Exchange {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        try run(
                            port: port, request: request, byteDelay: byteDelay, stopAfter: stopAfter,
                            timeoutSeconds: timeoutSeconds)
                    })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// An HTTP/1.1 POST of `json` to `path` with `Connection: close` and the given extra header lines.
    static func post(_ path: String, json: String, headers: [String: String] = [:]) -> [UInt8] {
        let body = Array(json.utf8)
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    private static func run(
        port: Int, request: [UInt8], byteDelay: Duration?, stopAfter: Int?, timeoutSeconds: Int
    ) throws -> Exchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw TestFailure("connect to port \(port) failed") }
        if let byteDelay {
            for byte in request {
                var one = byte
                guard Glibc.send(fd, &one, 1, Int32(MSG_NOSIGNAL)) == 1 else { break }
                Thread.sleep(
                    forTimeInterval: Double(byteDelay.components.seconds) + Double(byteDelay.components.attoseconds)
                        / 1e18)
            }
        } else {
            var sent = 0
            while sent < request.count {
                let n = request[sent...].withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                guard n > 0 else { break }  // the server may answer (413) before reading everything
                sent += n
            }
        }
        var exchange = Exchange(bytes: [], reads: [], ending: .eof)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                exchange.bytes.append(contentsOf: buffer[0..<n])
                exchange.reads.append(n)
                if let stopAfter, exchange.bytes.count >= stopAfter {
                    exchange.ending = .stoppedReading
                    break
                }
                continue
            }
            if n == 0 {
                exchange.ending = .eof
            } else if errno == ECONNRESET {
                exchange.ending = .reset
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                exchange.ending = .timedOut
            } else if errno == EINTR {
                continue
            } else {
                throw TestFailure("recv failed (errno \(errno)) after \(exchange.bytes.count) bytes")
            }
            break
        }
        return exchange
    }
}

/// A response as it came off the wire.
struct RawResponse {
    var status: Int
    /// Lower-cased names.
    var headers: [String: String]
    /// The body bytes exactly as sent (chunk framing included).
    var rawBody: [UInt8]

    init?(_ bytes: [UInt8]) {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        self.status = status
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        self.headers = headers
        rawBody = Array(bytes[end.upperBound...])
    }

    /// The chunks of a chunked body in order, and whether the last chunk (`0\r\n\r\n`) arrived.
    var chunks: (chunks: [[UInt8]], complete: Bool) {
        var out: [[UInt8]] = []
        var index = 0
        let data = rawBody
        while index < data.count {
            guard let lineEnd = data[index...].firstRange(of: [13, 10]),
                let size = Int(
                    String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? "",
                    radix: 16)
            else { return (out, false) }
            if size == 0 { return (out, data.count >= lineEnd.upperBound + 2) }
            let start = lineEnd.upperBound
            guard start + size + 2 <= data.count else {
                out.append(Array(data[start...]))
                return (out, false)
            }
            out.append(Array(data[start..<(start + size)]))
            index = start + size + 2
        }
        return (out, false)
    }

    /// The body without chunk framing.
    var body: [UInt8] { headers["transfer-encoding"] == "chunked" ? chunks.chunks.flatMap { $0 } : rawBody }

    /// The SSE `data:` payloads (lines split on LF, a trailing CR dropped).
    var dataPayloads: [[UInt8]] {
        body.split(separator: 0x0A, omittingEmptySubsequences: true).compactMap { line -> [UInt8]? in
            var line = Array(line)
            if line.last == 0x0D { line.removeLast() }
            guard line.starts(with: Array("data: ".utf8)) else { return nil }
            return Array(line.dropFirst(6))
        }
    }

    /// The `data:` payloads that parse as JSON objects.
    var jsonEvents: [[String: Any]] {
        dataPayloads.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }
}

/// The content strings of chat chunk events (events without content, e.g. the role chunk, give nil).
func contentOf(_ event: [String: Any]) -> String? {
    guard let choices = event["choices"] as? [[String: Any]], let first = choices.first,
        let delta = first["delta"] as? [String: Any], let content = delta["content"] as? String, !content.isEmpty
    else { return nil }
    return content
}
