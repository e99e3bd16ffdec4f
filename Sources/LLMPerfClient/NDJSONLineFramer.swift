/// Incremental framer of newline-delimited JSON (`application/x-ndjson`, Ollama's streams): one
/// JSON value per line.
///
/// Feed it the response bytes as they arrive, split anywhere: a line may span reads, a read may
/// hold many lines. A line ends at "\n"; a "\r" before it is dropped (CRLF is tolerated), and
/// blank lines are skipped. `finish` hands over a last line that had no "\n".
///
/// Memory is bounded as `SSEParser`'s is: a line longer than `maxLineBytes` stops the framer
/// (`overflowed` becomes true and every later byte is ignored), and the buffer of an unusually
/// long line is released once it has been handed over.
public struct NDJSONLineFramer {
    /// The longest line accepted, in bytes.
    public static let defaultMaxLineBytes = SSEParser.defaultMaxEventBytes
    /// A buffer grown past this is released after the line that grew it.
    static let keptCapacityBytes = 64 << 10
    private var carry: [UInt8] = []
    public let maxLineBytes: Int
    /// A line exceeded `maxLineBytes`; nothing more is framed.
    public private(set) var overflowed = false

    public init(maxLineBytes: Int = NDJSONLineFramer.defaultMaxLineBytes) {
        self.maxLineBytes = max(maxLineBytes, 1)
        carry.reserveCapacity(256)
    }

    /// True when bytes of a line that has not been handed over are buffered.
    public var hasPartialLine: Bool { !carry.isEmpty }

    /// Frames `bytes`, calling `handler` with every line they complete (without its line end).
    /// The buffer is valid only during the call.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handler: (UnsafeRawBufferPointer) -> Void) {
        let count = bytes.count
        guard !overflowed, count > 0, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return
        }
        var lineStart = 0
        var i = 0
        while i < count {
            if base[i] != 0x0A {
                i &+= 1
                continue
            }
            if carry.isEmpty {
                if i - lineStart > maxLineBytes { return overflow() }
                emit(UnsafeRawBufferPointer(start: base + lineStart, count: i - lineStart), handler)
            } else {
                if carry.count + (i - lineStart) > maxLineBytes { return overflow() }
                carry.append(contentsOf: UnsafeBufferPointer(start: base + lineStart, count: i - lineStart))
                carry.withUnsafeBytes { emit($0, handler) }
                releaseCarry()
            }
            i &+= 1
            lineStart = i
        }
        if lineStart < count {
            if carry.count + (count - lineStart) > maxLineBytes { return overflow() }
            carry.append(contentsOf: UnsafeBufferPointer(start: base + lineStart, count: count - lineStart))
        }
    }

    /// Hands over the last line when the body ended without a "\n" after it.
    public mutating func finish(_ handler: (UnsafeRawBufferPointer) -> Void) {
        guard !overflowed, !carry.isEmpty else { return }
        carry.withUnsafeBytes { emit($0, handler) }
        releaseCarry()
    }

    /// Convenience for tests and tools: frames `bytes` (then `finish`es when `last`) and returns
    /// the lines as text.
    public mutating func lines(in bytes: [UInt8], last: Bool = false) -> [String] {
        var out: [String] = []
        bytes.withUnsafeBytes { raw in feed(raw) { out.append(String(decoding: $0, as: UTF8.self)) } }
        if last { finish { out.append(String(decoding: $0, as: UTF8.self)) } }
        return out
    }

    private func emit(_ line: UnsafeRawBufferPointer, _ handler: (UnsafeRawBufferPointer) -> Void) {
        var n = line.count
        if n > 0 && line[n - 1] == 0x0D { n -= 1 }
        // A blank line (or one of only spaces and tabs) carries no value.
        var k = 0
        while k < n && (line[k] == 0x20 || line[k] == 0x09) { k += 1 }
        if k == n { return }
        handler(UnsafeRawBufferPointer(rebasing: line[0..<n]))
    }

    private mutating func releaseCarry() {
        if carry.capacity > Self.keptCapacityBytes {
            carry = []
        } else {
            carry.removeAll(keepingCapacity: true)
        }
    }

    private mutating func overflow() {
        overflowed = true
        carry = []
    }
}
