import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the server-side send time of every SSE event to a file, for `llmperf calibrate`.
///
/// One line per event: `request_id<TAB>chunk_index<TAB>monotonic_ns<TAB>kind`, where `monotonic_ns` is
/// CLOCK_MONOTONIC when the write holding the event was handed to the connection, `chunk_index` counts
/// the response's events from 0, and `kind` is one of `role`, `first_token`, `token`, `finish`, `usage`,
/// `done` (a non-streamed response has one `response` line). Each request also has an `arrival` line
/// with index -1, and with it `fault:NAME` (the fault applied, `fault:none` when healthy) and
/// `remote_port:PORT` (the client's port: equal ports mean a reused connection). `request_id` is the
/// client's `x-request-id` header when sent, else the completion id
/// (both are echoed in the `x-request-id` response header). The file is truncated at start; lines are
/// buffered and written when the buffer fills, every second, and at shutdown.
///
/// A failed write is never skipped over: the recorder stops writing (the file keeps every line
/// before the failure, so it never has a hole in the middle), says so once on standard error,
/// counts the events it could not record, and `finish()` throws the failure.
public final class TraceRecorder: Sendable {
    public enum Kind: String, Sendable {
        case arrival, role, response, token, usage, done, finish
        /// The connection's accept (its channel set up), index -2, on its first request only.
        case accept
        case firstToken = "first_token"
        /// `fault:NAME`: the fault the server applied (`fault:none` when healthy), index -1.
        case fault
        /// `remote_port:PORT`: the client's port of the connection, index -1.
        case remotePort = "remote_port"
    }

    struct Entry: Sendable {
        var index: Int
        var kind: Kind
        /// Written after the kind and a colon (`fault:http_429`).
        var detail: String? = nil
    }

    private struct State: Sendable {
        var fd: Int32
        var buffer: [UInt8] = []
        var failure: TraceRecorderError?
        var lostLines = 0
    }

    private let state: NIOLockedValueBox<State>
    private let path: String
    private static let flushThreshold = 256 * 1024

    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TraceRecorderError.cannotOpen(path: path, errno: errno) }
        self.path = path
        var state = State(fd: fd)
        state.buffer.reserveCapacity(Self.flushThreshold + 4096)
        state.buffer.append(contentsOf: Array("# request_id\tchunk_index\tmonotonic_ns\tkind\n".utf8))
        self.state = NIOLockedValueBox(state)
    }

    /// A request id that cannot break the line format.
    static func sanitize(_ id: String) -> [UInt8] {
        id.utf8.map { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D ? UInt8(ascii: "_") : $0 }
    }

    /// Records events that left in one write at `nanos`.
    func record(requestID: [UInt8], entries: [Entry], nanos: UInt64) {
        guard !entries.isEmpty else { return }
        state.withLockedValue { state in
            for entry in entries {
                state.buffer.append(contentsOf: requestID)
                state.buffer.append(0x09)
                Self.appendDecimal(entry.index, to: &state.buffer)
                state.buffer.append(0x09)
                Self.appendDecimal(nanos, to: &state.buffer)
                state.buffer.append(0x09)
                state.buffer.append(contentsOf: entry.kind.rawValue.utf8)
                if let detail = entry.detail {
                    state.buffer.append(UInt8(ascii: ":"))
                    state.buffer.append(contentsOf: detail.utf8)
                }
                state.buffer.append(0x0A)
            }
            if state.buffer.count >= Self.flushThreshold { writeOut(&state) }
        }
    }

    public func flush() {
        state.withLockedValue { writeOut(&$0) }
    }

    /// The write failure, once one happened (with the count of lines lost so far).
    public var failure: TraceRecorderError? {
        state.withLockedValue { state in
            guard case .writeFailed(let path, let code, _) = state.failure else { return state.failure }
            return .writeFailed(path: path, errno: code, lostLines: state.lostLines)
        }
    }

    /// Flushes and closes the file; later records are dropped. Never throws: see `finish()`.
    public func close() {
        state.withLockedValue { state in
            writeOut(&state)
            if state.fd >= 0 {
                if closeFile(state.fd) != 0 && state.failure == nil {
                    state.failure = .writeFailed(path: path, errno: errno, lostLines: 0)
                }
                state.fd = -1
            }
        }
    }

    /// Flushes and closes the file, and throws if any part of the trace could not be written.
    public func finish() throws(TraceRecorderError) {
        close()
        if let failure { throw failure }
    }

    private func writeOut(_ state: inout State) {
        defer { state.buffer.removeAll(keepingCapacity: true) }
        guard state.fd >= 0, state.failure == nil else {
            state.lostLines += state.buffer.count { $0 == 0x0A }
            return
        }
        let failed: (offset: Int, errno: Int32)? = state.buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(state.fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written < 0 { return (offset, errno) }
                if written == 0 { return (offset, EIO) }
                offset += written
            }
            return nil
        }
        guard let (failedAt, code) = failed else { return }
        // Every line not completely written is lost (a cut last line included).
        state.lostLines += state.buffer[failedAt...].count { $0 == 0x0A }
        state.failure = .writeFailed(path: path, errno: code, lostLines: 0)
        let message =
            "llmperf serve: writing the trace file \(path) failed: \(String(cString: strerror(code))); "
            + "the trace is incomplete from here on\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
    }

    private static func appendDecimal<T: BinaryInteger>(_ value: T, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        let magnitude = UInt64(value.magnitude)
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8((magnitude / divisor) % 10))
            divisor /= 10
        }
    }
}

@inline(__always)
private func closeFile(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
        return Glibc.close(fd)
    #else
        return Darwin.close(fd)
    #endif
}

public enum TraceRecorderError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    /// A write failed: the file holds the lines before it; `lostLines` events were not recorded.
    case writeFailed(path: String, errno: Int32, lostLines: Int)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code):
            return "cannot open trace file \(path): \(String(cString: strerror(code)))"
        case .writeFailed(let path, let code, let lost):
            return "writing trace file \(path) failed: \(String(cString: strerror(code))); the trace is incomplete "
                + "(\(lost) events not recorded)"
        }
    }
}
