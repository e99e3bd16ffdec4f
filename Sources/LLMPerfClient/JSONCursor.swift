/// A forward-only, allocation-free reader over JSON bytes, for the streaming hot path.
///
/// It validates what it reads (strings, numbers, literals, nesting) and reports anything it
/// does not accept by returning nil/false; callers then fall back to `JSONSerialization`.
public struct JSONCursor {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos: Int = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        if let p = bytes.baseAddress {
            base = p.assumingMemoryBound(to: UInt8.self)
            end = bytes.count
        } else {
            base = UnsafePointer(bitPattern: 1)!
            end = 0
        }
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos &+= 1 } else { return }
        }
    }

    /// The next non-whitespace byte, not consumed; nil at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return pos < end ? base[pos] : nil
    }

    @inline(__always)
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard pos < end, base[pos] == byte else { return false }
        pos &+= 1
        return true
    }

    public var atEnd: Bool {
        mutating get {
            skipWhitespace()
            return pos >= end
        }
    }

    /// Reads a string without decoding it: the raw bytes between the quotes and whether any
    /// escape occurs in them. The cursor must be at the opening quote.
    mutating func rawString() -> (start: Int, end: Int, escaped: Bool)? {
        guard consume(0x22) else { return nil }
        let start = pos
        var escaped = false
        while pos < end {
            let c = base[pos]
            if c == 0x22 {
                let r = (start, pos, escaped)
                pos &+= 1
                return r
            }
            if c == 0x5C {
                escaped = true
                pos &+= 2
                continue
            }
            if c < 0x20 { return nil }
            pos &+= 1
        }
        return nil
    }

    /// True when the raw string bytes (unescaped) equal `literal`.
    @inline(__always)
    func rawEquals(_ range: (start: Int, end: Int, escaped: Bool), _ literal: StaticString) -> Bool {
        guard !range.escaped, range.end - range.start == literal.utf8CodeUnitCount else { return false }
        let p = literal.utf8Start
        var k = 0
        while k < literal.utf8CodeUnitCount {
            if base[range.start + k] != p[k] { return false }
            k &+= 1
        }
        return true
    }

    /// Decodes a string value (escapes, \uXXXX and surrogate pairs) and appends its UTF-8
    /// to `out`. The cursor must be at the opening quote.
    public mutating func appendString(to out: inout [UInt8]) -> Bool {
        guard let r = rawString() else { return false }
        return Self.unescape(base: base, start: r.start, end: r.end, escaped: r.escaped, into: &out)
    }

    static func unescape(
        base: UnsafePointer<UInt8>, start: Int, end: Int, escaped: Bool, into out: inout [UInt8]
    ) -> Bool {
        if !escaped {
            out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: end - start))
            return true
        }
        var i = start
        var runStart = start
        while i < end {
            if base[i] != 0x5C {
                i &+= 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart)) }
            guard i + 1 < end else { return false }
            let e = base[i + 1]
            i &+= 2
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard var scalar = hex4(base, i, end) else { return false }
                i &+= 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // High surrogate: a low one must follow as \uDC00-\uDFFF.
                    if i + 6 <= end, base[i] == 0x5C, base[i + 1] == 0x75, let low = hex4(base, i + 2, end),
                        low >= 0xDC00 && low < 0xE000
                    {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i &+= 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD
                }
                appendUTF8(scalar, to: &out)
            default: return false
            }
            runStart = i
        }
        if runStart < end { out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: end - runStart)) }
        return true
    }

    private static func hex4(_ base: UnsafePointer<UInt8>, _ at: Int, _ end: Int) -> UInt32? {
        guard at + 4 <= end else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = base[at + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    private static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        switch s {
        case 0..<0x80: out.append(UInt8(s))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (s >> 6)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (s >> 12)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (s >> 18)))
            out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        }
    }

    /// Reads a non-negative or negative integer; nil for anything else (fractions, exponents).
    mutating func integer() -> Int? {
        skipWhitespace()
        var negative = false
        if pos < end && base[pos] == 0x2D {
            negative = true
            pos &+= 1
        }
        let start = pos
        var v = 0
        while pos < end, base[pos] >= 0x30, base[pos] <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(base[pos] - 0x30))
            if o1 || o2 { return nil }
            v = a
            pos &+= 1
        }
        guard pos > start else { return nil }
        if pos < end, base[pos] == 0x2E || base[pos] == 0x65 || base[pos] == 0x45 { return nil }
        return negative ? -v : v
    }

    /// Reads a number (integer, fraction or exponent) as a Double; nil for anything else.
    mutating func double() -> Double? {
        skipWhitespace()
        let start = pos
        guard number() else {
            pos = start
            return nil
        }
        // A JSON number is a few bytes: a small string, no allocation.
        return Double(String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self))
    }

    /// Consumes `null` when it comes next.
    mutating func consumeNull() -> Bool {
        skipWhitespace()
        guard pos + 4 <= end, base[pos] == 0x6E, base[pos + 1] == 0x75, base[pos + 2] == 0x6C, base[pos + 3] == 0x6C
        else { return false }
        pos &+= 4
        return true
    }

    /// Skips one value of any type, validating it (depth-limited).
    public mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < 64, let c = peek() else { return false }
        switch c {
        case 0x22: return rawString() != nil
        case 0x7B:
            pos &+= 1
            if consume(0x7D) { return true }
            repeat {
                guard rawString() != nil, consume(0x3A), skipValue(depth: depth + 1) else { return false }
            } while consume(0x2C)
            return consume(0x7D)
        case 0x5B:
            pos &+= 1
            if consume(0x5D) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while consume(0x2C)
            return consume(0x5D)
        case 0x74: return literal("true")
        case 0x66: return literal("false")
        case 0x6E: return literal("null")
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard pos + n <= end else { return false }
        let p = word.utf8Start
        for k in 0..<n where base[pos + k] != p[k] { return false }
        pos &+= n
        return true
    }

    private mutating func number() -> Bool {
        let start = pos
        if pos < end && base[pos] == 0x2D { pos &+= 1 }
        var digits = 0
        while pos < end {
            let c = base[pos]
            if (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x65 || c == 0x45 || c == 0x2B || c == 0x2D {
                if c >= 0x30 && c <= 0x39 { digits &+= 1 }
                pos &+= 1
            } else {
                break
            }
        }
        return digits > 0 && pos > start
    }
}
