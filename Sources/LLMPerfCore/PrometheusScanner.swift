import Foundation

/// A cursor over the UTF-8 bytes of a Prometheus text exposition: metric and label names, quoted
/// label values, sample values, timestamps, and errors that say where they are.
///
/// Hand-written on bytes on purpose, not String or Character operations: a busy vLLM serves 100 to
/// 300 KB of metrics per scrape and a run scrapes it every few seconds, so a scrape must parse in a
/// few milliseconds, in one linear pass that never breaks graphemes. Every method moves forward
/// only, and every loop is bounded by the buffer, so no input makes it loop, recurse or trap.
struct PrometheusScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The byte the scanner is at.
    private(set) var position = 0
    /// The current line, counting from 1, and the offset of its first byte.
    private(set) var line = 1
    private(set) var lineStart = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let backslash: UInt8 = 0x5C
    static let quote: UInt8 = 0x22

    var isAtEnd: Bool { position >= bytes.count }

    /// The byte at the cursor; nil at the end of the text.
    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    /// At the end of the text, a `\n`, or a `\r` that ends the line (`\r\n` line ends are read as `\n`).
    var isAtLineEnd: Bool { isLineEnd(position) }

    func isLineEnd(_ offset: Int) -> Bool {
        guard offset < bytes.count else { return true }
        let byte = bytes[offset]
        if byte == Self.newline { return true }
        return byte == Self.carriageReturn && (offset + 1 == bytes.count || bytes[offset + 1] == Self.newline)
    }

    mutating func advance() {
        if position < bytes.count { position += 1 }
    }

    /// Skips spaces and tabs.
    mutating func skipBlanks() {
        while position < bytes.count, bytes[position] == Self.space || bytes[position] == Self.tab {
            position += 1
        }
    }

    /// Moves to the end of the current line (not past it).
    mutating func skipRestOfLine() {
        while !isAtLineEnd { position += 1 }
    }

    /// At the end of a line: moves past its `\r\n` or `\n` to the start of the next line.
    mutating func finishLine() {
        if position < bytes.count, bytes[position] == Self.carriageReturn { position += 1 }
        if position < bytes.count, bytes[position] == Self.newline {
            position += 1
            line += 1
            lineStart = position
        }
    }

    // MARK: Tokens

    /// A metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`; nil, without moving, when none starts here.
    mutating func metricName() -> Range<Int>? {
        name { Self.isLetter($0) || $0 == 0x5F || $0 == 0x3A }
    }

    /// A label name, `[a-zA-Z_][a-zA-Z0-9_]*`; nil, without moving, when none starts here.
    mutating func labelName() -> Range<Int>? {
        name { Self.isLetter($0) || $0 == 0x5F }
    }

    private mutating func name(startingWith isFirst: (UInt8) -> Bool) -> Range<Int>? {
        guard let first = current, isFirst(first) else { return nil }
        let start = position
        position += 1
        while position < bytes.count {
            let byte = bytes[position]
            guard isFirst(byte) || Self.isDigit(byte) else { break }
            position += 1
        }
        return start..<position
    }

    /// The bytes up to the next blank or the end of the line (possibly none).
    mutating func token() -> Range<Int> {
        let start = position
        while !isAtLineEnd, bytes[position] != Self.space, bytes[position] != Self.tab { position += 1 }
        return start..<position
    }

    /// A quoted label value, the cursor on its opening quote: its text with `\\`, `\"` and `\n`
    /// unescaped (any other backslash pair is kept as written, as Prometheus's own scraper keeps
    /// it), and its raw bytes between the quotes. Throws when the line ends before the closing quote.
    mutating func quotedLabelValue(of label: Range<Int>) throws -> (value: String, raw: Range<Int>) {
        advance()
        let start = position
        var escaped = false
        while true {
            if isAtLineEnd {
                throw error(
                    "the value of label \(quoted(label)) is not closed before the end of the line", at: position)
            }
            let byte = bytes[position]
            if byte == Self.quote { break }
            if byte == Self.backslash {
                escaped = true
                position += 1
                if isAtLineEnd {
                    throw error(
                        "the value of label \(quoted(label)) is not closed before the end of the line", at: position)
                }
            }
            position += 1
        }
        let raw = start..<position
        advance()
        return (escaped ? unescaped(raw, quotes: true) : text(raw), raw)
    }

    /// The text of `range` with `\\` and `\n` unescaped (and `\"` when `quotes`); other backslash
    /// pairs stay as written.
    func unescaped(_ range: Range<Int>, quotes: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var offset = range.lowerBound
        while offset < range.upperBound {
            let byte = bytes[offset]
            if byte == Self.backslash, offset + 1 < range.upperBound {
                let next = bytes[offset + 1]
                if next == Self.backslash || next == 0x6E || quotes && next == Self.quote {
                    out.append(next == 0x6E ? Self.newline : next)
                    offset += 2
                    continue
                }
            }
            out.append(byte)
            offset += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Whether the bytes of two ranges are the same.
    func same(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.lowerBound
        var j = b.lowerBound
        while i < a.upperBound {
            if bytes[i] != bytes[j] { return false }
            i += 1
            j += 1
        }
        return true
    }

    /// Whether `range` of `bytes` holds `word`, ignoring ASCII case.
    static func matches(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, caseInsensitive word: StaticString
    ) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        let letters = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for (offset, letter) in zip(range, letters) where bytes[offset] | 0x20 != letter | 0x20 {
            return false
        }
        return true
    }

    // MARK: Errors

    /// An error at byte `offset` of the current line; its column counts Unicode scalars.
    func error(_ message: String, at offset: Int) -> PrometheusParseError {
        var column = 1
        var index = lineStart
        while index < offset, index < bytes.count {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return PrometheusParseError(line: line, column: column, message: message)
    }

    /// What is at `offset`, for a message: `'x'`, or `end of line`.
    func found(at offset: Int) -> String {
        if isLineEnd(offset) { return "end of line" }
        let lead = bytes[offset]
        let length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
        let character = text(offset..<min(bytes.count, offset + length))
        if lead < 0x20 || lead == 0x7F { return "'\\u{\(String(lead, radix: 16))}'" }
        return "'\(character)'"
    }

    /// `range`'s text in quotes for a message, cut at 40 bytes.
    func quoted(_ range: Range<Int>) -> String {
        if range.count <= 40 { return "'\(text(range))'" }
        return "'\(text(range.lowerBound..<range.lowerBound + 40))…'"
    }

    // MARK: Numbers

    /// A sample value (or an `le` or `quantile` label's value) as Go's ParseFloat reads what
    /// Prometheus clients write: a decimal with optional fraction and exponent, `Inf` or
    /// `Infinity` with an optional sign, `NaN`, in any case. Nil for anything else (hexadecimal
    /// floats and digit separators included).
    static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        var offset = range.lowerBound
        let end = range.upperBound
        guard offset < end else { return nil }
        var negative = false
        if bytes[offset] == 0x2B || bytes[offset] == 0x2D {
            negative = bytes[offset] == 0x2D
            offset += 1
        }
        guard offset < end else { return nil }
        if !isDigit(bytes[offset]) && bytes[offset] != 0x2E {
            let word = offset..<end
            if matches(bytes, word, caseInsensitive: "inf") || matches(bytes, word, caseInsensitive: "infinity") {
                return negative ? -.infinity : .infinity
            }
            if offset == range.lowerBound, matches(bytes, word, caseInsensitive: "nan") { return .nan }
            return nil
        }
        // Digits, an optional fraction, an optional exponent; the mantissa is kept while it is exact.
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var sawDot = false
        var sawDigit = false
        while offset < end {
            let byte = bytes[offset]
            if isDigit(byte) {
                sawDigit = true
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(byte - 0x30)
                    if mantissa != 0 { digits += 1 }
                    if sawDot { fractionDigits += 1 }
                } else {
                    digits += 1
                }
            } else if byte == 0x2E, !sawDot {
                sawDot = true
            } else {
                break
            }
            offset += 1
        }
        guard sawDigit else { return nil }
        var exponent = 0
        if offset < end, bytes[offset] | 0x20 == 0x65 {
            offset += 1
            var exponentNegative = false
            if offset < end, bytes[offset] == 0x2B || bytes[offset] == 0x2D {
                exponentNegative = bytes[offset] == 0x2D
                offset += 1
            }
            guard offset < end, isDigit(bytes[offset]) else { return nil }
            while offset < end, isDigit(bytes[offset]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[offset] - 0x30) }
                offset += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        guard offset == end else { return nil }
        // Exact fast path (Clinger): a mantissa of at most 15 significant digits is an exact double,
        // and so is 10^k for k ≤ 22, so one correctly rounded multiply or divide gives the exact
        // nearest double. Everything else goes to the standard library's correctly rounded parser.
        let power = exponent - fractionDigits
        if digits <= 15, power >= -22, power <= 22 {
            let value = power >= 0 ? Double(mantissa) * powersOfTen[power] : Double(mantissa) / powersOfTen[-power]
            return negative ? -value : value
        }
        return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
    }

    /// `number` on a string (an `le` label's value).
    static func number(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { number($0, 0..<$0.count) }
    }

    /// An optional sample timestamp: an integer, in milliseconds.
    enum Timestamp: Equatable {
        case value(Int64)
        case notAnInteger
        case outOfRange
    }

    static func timestamp(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Timestamp {
        var offset = range.lowerBound
        var negative = false
        if offset < range.upperBound, bytes[offset] == 0x2B || bytes[offset] == 0x2D {
            negative = bytes[offset] == 0x2D
            offset += 1
        }
        guard offset < range.upperBound else { return .notAnInteger }
        var value: Int64 = 0
        var overflow = false
        while offset < range.upperBound {
            let byte = bytes[offset]
            guard isDigit(byte) else { return .notAnInteger }
            if !overflow {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let digit = Int64(byte - 0x30)
                let (next, o2) =
                    negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                overflow = o1 || o2
                value = next
            }
            offset += 1
        }
        return overflow ? .outOfRange : .value(value)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLetter(_ byte: UInt8) -> Bool { byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}
