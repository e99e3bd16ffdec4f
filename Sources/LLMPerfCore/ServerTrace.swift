import Foundation

/// The bundled server's trace file (`llmperf serve --trace-file`): one tab-separated line per
/// event, `request_id  chunk_index  monotonic_ns  kind`, where kind is `accept` (index −2, the
/// connection's accept, on its first request only), `arrival` (index −1),
/// `role`, `first_token`, `token`, `finish`, `usage`, `done`, `response` or `remote_port:PORT` (the
/// client's port, with the arrival). Times are
/// CLOCK_MONOTONIC nanoseconds, the clock the client reads on the same host.
public struct ServerTrace: Sendable, Equatable {
    public struct Request: Sendable, Equatable {
        public var arrivalNanos: UInt64?
        /// Send times of the content tokens (`first_token`, then every `token`), in order.
        public var tokenNanos: [UInt64]
        /// When a non-streamed answer (`response`) was sent.
        public var responseNanos: UInt64?
        /// When the server accepted the request's connection (set up its channel), for the first
        /// request on a connection.
        public var acceptNanos: UInt64?
        /// The client's port of the request's connection (`remote_port:PORT`).
        public var remotePort: UInt16?

        public init(
            arrivalNanos: UInt64? = nil, tokenNanos: [UInt64] = [], responseNanos: UInt64? = nil,
            acceptNanos: UInt64? = nil, remotePort: UInt16? = nil
        ) {
            self.arrivalNanos = arrivalNanos
            self.tokenNanos = tokenNanos
            self.responseNanos = responseNanos
            self.acceptNanos = acceptNanos
            self.remotePort = remotePort
        }
    }

    public var requests: [String: Request]

    public init(requests: [String: Request]) {
        self.requests = requests
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var text: String
        public var description: String {
            "server trace line \(line): expected 'id<TAB>index<TAB>ns<TAB>kind', got '\(text)'"
        }
    }

    /// Lines starting with `#` (the header) are skipped.
    public init(parsing text: String) throws(ParseError) {
        var events: [String: [(index: Int, nanos: UInt64, kind: Substring)]] = [:]
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            lineNumber += 1
            if line.hasPrefix("#") { continue }  // the header line
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4, let index = Int(fields[1]), let nanos = UInt64(fields[2]) else {
                throw ParseError(line: lineNumber, text: String(line.prefix(200)))
            }
            events[String(fields[0]), default: []].append((index, nanos, fields[3]))
        }
        var requests: [String: Request] = [:]
        for (id, list) in events {
            var request = Request()
            for event in list.sorted(by: { $0.index < $1.index }) {
                switch event.kind {
                case "arrival": request.arrivalNanos = event.nanos
                case "first_token", "token": request.tokenNanos.append(event.nanos)
                case "response": request.responseNanos = event.nanos
                case "accept": request.acceptNanos = event.nanos
                case let kind where kind.hasPrefix("remote_port:"):
                    request.remotePort = UInt16(kind.dropFirst("remote_port:".count))
                default: break
                }
            }
            requests[id] = request
        }
        self.requests = requests
    }
}
