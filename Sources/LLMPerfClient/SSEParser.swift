/// One dispatched server-sent event, viewed in place: the buffers are valid only during the
/// handler call that receives it.
public struct SSEEventView {
    /// The `event:` field, empty when the event had none (the type is then "message").
    public let name: UnsafeRawBufferPointer
    /// Every `data:` line of the event joined with "\n".
    public let data: UnsafeRawBufferPointer
    /// The last event ID seen so far (empty when none).
    public let id: UnsafeRawBufferPointer
}

/// An owned copy of a dispatched event (tests, tools; the hot path uses `SSEEventView`).
public struct SSEEvent: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var data: String
    public var id: String

    public init(name: String = "", data: String, id: String = "") {
        self.name = name
        self.data = data
        self.id = id
    }

    public var description: String {
        "SSEEvent(name: \(name.debugDescription), data: \(data.debugDescription), id: \(id))"
    }
}

/// Incremental, byte-level parser of the `text/event-stream` format (WHATWG HTML §9.2).
///
/// Feed it the response bytes as they arrive, split anywhere: an event may span reads, a read
/// may hold many events. Lines end with "\n", "\r\n" or "\r" (a "\r\n" split across two reads
/// is one line end). Comment lines (": keep-alive") are skipped, `event:` and `id:` are kept,
/// several `data:` lines are joined with "\n", and an event is dispatched at the blank line
/// that ends it (an event without data is not dispatched, as the standard says).
///
/// Memory is bounded: a line or an event longer than `maxEventBytes` stops the parser
/// (`overflowed` becomes true and every later byte is ignored), and the buffers of an
/// unusually large event are released once it has been dispatched.
public struct SSEParser {
    /// The longest line or event (its joined `data`) accepted, in bytes.
    public static let defaultMaxEventBytes = 16 << 20
    /// Buffers grown past this are released after the event that grew them.
    static let keptCapacityBytes = 64 << 10
    private var carry: [UInt8] = []
    private var spare: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var name: [UInt8] = []
    private var pendingLF = false
    /// The last `id:` seen (bytes).
    public private(set) var lastEventID: [UInt8] = []
    public let maxEventBytes: Int
    /// A line or event exceeded `maxEventBytes`; nothing more is parsed.
    public private(set) var overflowed = false

    public init(maxEventBytes: Int = SSEParser.defaultMaxEventBytes) {
        self.maxEventBytes = max(maxEventBytes, 1)
        carry.reserveCapacity(256)
        data.reserveCapacity(256)
    }

    /// True when bytes of an event that has not been dispatched yet are buffered.
    public var hasPartialEvent: Bool { !carry.isEmpty || hasData }

    /// Parses `bytes`, calling `handler` for every event completed by them.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handler: (SSEEventView) -> Void) {
        let count = bytes.count
        guard !overflowed, count > 0, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return
        }
        var i = 0
        if pendingLF {
            pendingLF = false
            if base[0] == 0x0A { i = 1 }
        }
        var lineStart = i
        while i < count {
            let byte = base[i]
            if byte != 0x0A && byte != 0x0D {
                i &+= 1
                continue
            }
            // A line ends at i.
            if carry.isEmpty {
                if i - lineStart > maxEventBytes { return overflow() }
                processLine(UnsafeRawBufferPointer(start: base + lineStart, count: i - lineStart), handler)
            } else {
                if carry.count + (i - lineStart) > maxEventBytes { return overflow() }
                carry.append(contentsOf: UnsafeBufferPointer(start: base + lineStart, count: i - lineStart))
                swap(&carry, &spare)
                let line = spare
                line.withUnsafeBytes { processLine($0, handler) }
                if spare.capacity > Self.keptCapacityBytes {
                    spare = []
                } else {
                    spare.removeAll(keepingCapacity: true)
                }
            }
            if overflowed { return }
            i &+= 1
            if byte == 0x0D {
                if i < count {
                    if base[i] == 0x0A { i &+= 1 }
                } else {
                    pendingLF = true
                }
            }
            lineStart = i
        }
        if lineStart < count {
            if carry.count + (count - lineStart) > maxEventBytes { return overflow() }
            carry.append(contentsOf: UnsafeBufferPointer(start: base + lineStart, count: count - lineStart))
        }
    }

    private mutating func overflow() {
        overflowed = true
        carry = []
        spare = []
        data = []
        hasData = false
        name = []
    }

    /// Convenience for tests and tools: parse `bytes` and return owned copies of the events.
    public mutating func events(in bytes: [UInt8]) -> [SSEEvent] {
        var out: [SSEEvent] = []
        bytes.withUnsafeBytes { raw in
            feed(raw) { view in
                out.append(
                    SSEEvent(
                        name: String(decoding: view.name, as: UTF8.self),
                        data: String(decoding: view.data, as: UTF8.self),
                        id: String(decoding: view.id, as: UTF8.self)))
            }
        }
        return out
    }

    private mutating func processLine(_ line: UnsafeRawBufferPointer, _ handler: (SSEEventView) -> Void) {
        let n = line.count
        if n == 0 {
            dispatch(handler)
            return
        }
        if line[0] == 0x3A { return }  // ": comment"
        var colon = 0
        while colon < n && line[colon] != 0x3A { colon &+= 1 }
        let field = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        var valueStart = colon < n ? colon + 1 : n
        if valueStart < n && line[valueStart] == 0x20 { valueStart += 1 }
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart..<n])
        if Self.equals(field, "data") {
            if data.count + value.count + 1 > maxEventBytes { return overflow() }
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if Self.equals(field, "event") {
            name.removeAll(keepingCapacity: true)
            name.append(contentsOf: value)
        } else if Self.equals(field, "id") {
            if !value.contains(0) {
                lastEventID.removeAll(keepingCapacity: true)
                lastEventID.append(contentsOf: value)
            }
        }
        // "retry" and unknown fields are ignored.
    }

    private mutating func dispatch(_ handler: (SSEEventView) -> Void) {
        if hasData {
            data.withUnsafeBytes { d in
                name.withUnsafeBytes { nm in
                    lastEventID.withUnsafeBytes { id in handler(SSEEventView(name: nm, data: d, id: id)) }
                }
            }
        }
        if data.capacity > Self.keptCapacityBytes {
            data = []
            data.reserveCapacity(256)
        } else {
            data.removeAll(keepingCapacity: true)
        }
        hasData = false
        name.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let p = literal.utf8Start
        for k in 0..<bytes.count where bytes[k] != p[k] { return false }
        return true
    }
}
