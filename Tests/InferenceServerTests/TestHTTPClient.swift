import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client over a blocking socket, run on its own thread so it never blocks
/// Swift's cooperative pool (which the server under test shares on a 2-core machine).
enum TestHTTPClient {
    struct Result: Sendable {
        var status: Int
        /// Lower-cased names.
        var headers: [String: String]
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }

        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw TestFailure("body is not a JSON object: \(text)")
            }
            return object
        }

        /// The `data:` payloads of an SSE body, in order.
        var events: [String] {
            text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map {
                $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : "<not data: \($0)>"
            }
        }
    }

    static func send(
        port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: String? = nil,
        readLimit: Int? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Swift.Result {
                        try exchange(
                            port: port, method: method, path: path, headers: headers, body: body, readLimit: readLimit)
                    })
            }
            thread.start()
        }
    }

    static func post(port: Int, path: String, json: String, headers: [String: String] = [:]) async throws -> Result {
        var headers = headers
        headers["Content-Type"] = "application/json"
        return try await send(port: port, method: "POST", path: path, headers: headers, body: json)
    }

    private static func exchange(
        port: Int, method: String, path: String, headers: [String: String], body: String?, readLimit: Int?
    ) throws -> Result {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
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
        let bodyBytes = Array((body ?? "").utf8)
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if body != nil || method == "POST" { request += "Content-Length: \(bodyBytes.count)\r\n" }
        request += "\r\n"
        let requestBytes = Array(request.utf8) + bodyBytes
        var sent = 0
        while sent < requestBytes.count {
            let n = requestBytes[sent...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { break }  // the server may answer (413) before reading everything
            sent += n
        }
        var raw: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw TestFailure("recv failed (errno \(errno)) after \(raw.count) bytes") }
            if n == 0 { break }
            raw.append(contentsOf: chunk[0..<n])
            if let readLimit, raw.count >= readLimit { break }
        }
        return try parse(raw, allowTruncated: readLimit != nil)
    }

    private static func parse(_ raw: [UInt8], allowTruncated: Bool) throws -> Result {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headEnd = raw.firstRange(of: separator) else {
            throw TestFailure("no HTTP head in \(raw.count) bytes")
        }
        let head = String(decoding: raw[..<headEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestFailure("bad status line") }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var body = Array(raw[headEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = try dechunk(body, allowTruncated: allowTruncated)
        }
        return Result(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ data: [UInt8], allowTruncated: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        let crlf: [UInt8] = [13, 10]
        while index < data.count {
            guard let lineEnd = data[index...].firstRange(of: crlf) else { break }
            let sizeText = String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";")[0], radix: 16) else {
                throw TestFailure("bad chunk size '\(sizeText)'")
            }
            if size == 0 { return out }
            let start = lineEnd.upperBound
            guard start + size <= data.count else {
                if allowTruncated { return out + data[start...] }
                throw TestFailure("truncated chunk")
            }
            out.append(contentsOf: data[start..<(start + size)])
            index = start + size + 2
        }
        if allowTruncated { return out }
        throw TestFailure("chunked body without a last chunk")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
