import Foundation

/// Where a value of a dataset file starts: its line (1-based), the file offset of that line's
/// first byte and its own file offset (the column is worked out from the two when an error needs it).
struct DatasetPosition: Sendable, Equatable {
    var line: Int
    var lineStart: Int
    var offset: Int
}

/// One JSON value of a dataset record, with where it starts.
indirect enum DatasetJSON {
    case object([DatasetJSONMember], DatasetPosition)
    case array([DatasetJSON], DatasetPosition)
    case string(String, DatasetPosition)
    /// The number as written (validated).
    case number(String, DatasetPosition)
    case bool(Bool, DatasetPosition)
    case null(DatasetPosition)

    var position: DatasetPosition {
        switch self {
        case .object(_, let p), .array(_, let p), .string(_, let p), .number(_, let p), .bool(_, let p), .null(let p):
            return p
        }
    }

    /// The first member named `key` of an object (nil for anything else).
    subscript(key: String) -> DatasetJSON? {
        guard case .object(let members, _) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// "an object", "an array", "a string", …, for "expected …, got …" messages.
    var kindDescription: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number(let text, _): return "the number \(text)"
        case .bool(let value, _): return value ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// A member of an object. A struct, not a tuple: an array of tuples looks its generic metadata up
/// on every allocation (2.5% of the load's time in a profile).
struct DatasetJSONMember {
    var key: String
    var value: DatasetJSON
}

/// Reads the records of a JSON dataset out of a window of its bytes: either the elements of one
/// top-level array (`[{…}, {…}]`, ShareGPT's usual form) or a sequence of values (JSON Lines).
///
/// Hand-written on purpose: a 100,000-conversation ShareGPT file is about 280 MB, more than the
/// loader's 200 MB budget, so the file is read in chunks and each record parsed as it comes
/// (`JSONSerialization` and `JSONDecoder` take a whole document). Raw newlines are only legal in
/// whitespace, so counting them there gives every value's line for the error messages. When the
/// window ends inside a record the scanner says so (`needMore`) and the reader retries that
/// record with more bytes.
struct DatasetJSONScanner {
    enum Failure: Error {
        /// The window ends before the record does (and the file goes on).
        case needMore
        case syntax(DatasetPosition, String)
    }

    /// Where the scanner is among the file's records.
    enum Phase: Equatable {
        /// Nothing read yet: the first value decides between an array and JSON Lines.
        case begin
        /// Inside the top-level array, before its first element.
        case arrayFirst
        /// Inside the top-level array, after an element.
        case arrayNext
        /// JSON Lines: one value after another.
        case lines
        /// The array was closed.
        case done
    }

    /// What the reader keeps between windows (and restores before retrying a record).
    struct State: Equatable {
        var phase: Phase = .begin
        var line = 1
        var lineStart = 0
    }

    let base: UnsafePointer<UInt8>
    let count: Int
    /// The file offset of `base[0]`.
    let baseOffset: Int
    /// Whether the window reaches the end of the file.
    let atEOF: Bool
    var pos = 0
    var state: State

    static let maximumDepth = 64

    init(_ window: UnsafeBufferPointer<UInt8>, baseOffset: Int, atEOF: Bool, state: State) {
        self.base = window.baseAddress ?? UnsafePointer(bitPattern: 1)!
        self.count = window.count
        self.baseOffset = baseOffset
        self.atEOF = atEOF
        self.state = state
    }

    var position: DatasetPosition {
        DatasetPosition(line: state.line, lineStart: state.lineStart, offset: baseOffset + pos)
    }

    /// The next record, or nil after the last one.
    mutating func nextRecord() throws(Failure) -> DatasetJSON? {
        skipWhitespace()
        switch state.phase {
        case .begin:
            guard pos < count else {
                if atEOF { return nil }
                throw .needMore
            }
            if base[pos] == UInt8(ascii: "[") {
                pos += 1
                state.phase = .arrayFirst
                return try nextRecord()
            }
            state.phase = .lines
            return try nextRecord()
        case .lines:
            guard pos < count else {
                if atEOF { return nil }
                throw .needMore
            }
            return try value(depth: 0)
        case .arrayFirst, .arrayNext:
            guard pos < count else { throw endOfInput("expected ']' to close the top-level array") }
            if base[pos] == UInt8(ascii: "]") {
                pos += 1
                state.phase = .done
                return try nextRecord()
            }
            if state.phase == .arrayNext {
                guard base[pos] == UInt8(ascii: ",") else {
                    throw .syntax(position, "expected ',' or ']' after an element of the top-level array")
                }
                pos += 1
                skipWhitespace()
                guard pos < count else { throw endOfInput("expected a value after ','") }
            }
            let element = try value(depth: 1)
            state.phase = .arrayNext
            return element
        case .done:
            guard pos < count else {
                if atEOF { return nil }
                throw .needMore
            }
            throw .syntax(position, "unexpected text after the top-level array")
        }
    }

    private func endOfInput(_ what: String) -> Failure {
        atEOF ? .syntax(position, "unexpected end of file: " + what) : .needMore
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < count {
            let c = base[pos]
            if c == 0x0A {
                pos += 1
                state.line += 1
                state.lineStart = baseOffset + pos
            } else if c == 0x20 || c == 0x09 || c == 0x0D {
                pos += 1
            } else if c == 0xEF, baseOffset + pos == 0, pos + 2 < count, base[pos + 1] == 0xBB, base[pos + 2] == 0xBF {
                pos += 3  // a byte-order mark at the start of the file
                state.lineStart = 3
            } else {
                return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> DatasetJSON {
        skipWhitespace()
        guard pos < count else { throw endOfInput("expected a value") }
        let at = position
        switch base[pos] {
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw .syntax(at, "nested too deeply") }
            return try object(depth: depth, at: at)
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw .syntax(at, "nested too deeply") }
            pos += 1
            var items: [DatasetJSON] = []
            skipWhitespace()
            guard pos < count else { throw endOfInput("expected ']'") }
            if base[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items, at)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard pos < count else { throw endOfInput("expected ',' or ']'") }
                let c = base[pos]
                pos += 1
                if c == UInt8(ascii: "]") { return .array(items, at) }
                guard c == UInt8(ascii: ",") else {
                    pos -= 1
                    throw .syntax(position, "expected ',' or ']' in an array, got \(Self.describe(c))")
                }
            }
        case UInt8(ascii: "\""):
            return .string(try string(), at)
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true, at)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false, at)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null(at)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try number(), at)
        case let c:
            throw .syntax(at, "expected a JSON value, got \(Self.describe(c))")
        }
    }

    private mutating func object(depth: Int, at: DatasetPosition) throws(Failure) -> DatasetJSON {
        pos += 1
        var members: [DatasetJSONMember] = []
        skipWhitespace()
        guard pos < count else { throw endOfInput("expected '}'") }
        if base[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(members, at)
        }
        while true {
            skipWhitespace()
            guard pos < count else { throw endOfInput("expected a key") }
            guard base[pos] == UInt8(ascii: "\"") else {
                throw .syntax(position, "expected a key in quotes, got \(Self.describe(base[pos]))")
            }
            let key = try string()
            skipWhitespace()
            guard pos < count else { throw endOfInput("expected ':'") }
            guard base[pos] == UInt8(ascii: ":") else {
                throw .syntax(position, "expected ':' after the key \"\(key)\", got \(Self.describe(base[pos]))")
            }
            pos += 1
            members.append(DatasetJSONMember(key: key, value: try value(depth: depth + 1)))
            skipWhitespace()
            guard pos < count else { throw endOfInput("expected ',' or '}'") }
            let c = base[pos]
            pos += 1
            if c == UInt8(ascii: "}") { return .object(members, at) }
            guard c == UInt8(ascii: ",") else {
                pos -= 1
                throw .syntax(position, "expected ',' or '}' in an object, got \(Self.describe(c))")
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let length = word.utf8CodeUnitCount
        let start = position
        for k in 0..<length {
            guard pos + k < count else { throw endOfInput("expected \(word)") }
            guard base[pos + k] == word.utf8Start[k] else { throw .syntax(start, "expected a JSON value") }
        }
        pos += length
    }

    private mutating func number() throws(Failure) -> String {
        let start = pos
        let at = position
        while pos < count {
            let c = base[pos]
            let numeric =
                (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
            if !numeric { break }
            pos += 1
        }
        if pos == count && !atEOF { throw .needMore }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        guard Double(text) != nil else { throw .syntax(at, "'\(text)' is not a number") }
        return text
    }

    /// A string value, the cursor at its opening quote; its UTF-8 is checked.
    private mutating func string() throws(Failure) -> String {
        let at = position
        pos += 1
        let start = pos
        var escaped = false
        while true {
            // Eight bytes at a time while none is a quote, a backslash or a control byte (the usual
            // zero-byte test on a word; a false alarm only hands the byte loop below more to do).
            while pos + 8 <= count {
                let word = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
                if Self.hasZeroByte(word ^ (Self.ones &* 0x22)) || Self.hasZeroByte(word ^ (Self.ones &* 0x5C))
                    || ((word &- Self.ones &* 0x20) & ~word & Self.highs) != 0
                {
                    break
                }
                pos += 8
            }
            guard pos < count else { throw endOfInput("expected '\"' to close the string") }
            let c = base[pos]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                escaped = true
                pos += 2
                continue
            }
            if c < 0x20 {
                throw .syntax(
                    position,
                    c == 0x0A ? "a line break inside a string (write it as \\n)" : "a control byte in a string")
            }
            pos += 1
        }
        let raw = UnsafeBufferPointer(start: base + start, count: pos - start)
        pos += 1
        if !escaped {
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw .syntax(at, "the string is not valid UTF-8")
            }
            return text
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var k = 0
        while k < raw.count {
            let c = raw[k]
            guard c == UInt8(ascii: "\\") else {
                bytes.append(c)
                k += 1
                continue
            }
            let e = raw[k + 1]
            k += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = Self.hex4(raw, k) else { throw .syntax(at, "a bad \\u escape in the string") }
                k += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard k + 1 < raw.count, raw[k] == UInt8(ascii: "\\"), raw[k + 1] == UInt8(ascii: "u"),
                        let low = Self.hex4(raw, k + 2), (0xDC00..<0xE000).contains(low)
                    else { throw .syntax(at, "a lone surrogate (\\u escape) in the string") }
                    k += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw .syntax(at, "a lone surrogate (\\u escape) in the string")
                }
                bytes.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw .syntax(at, "a bad escape \\\(Self.describe(e)) in the string")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .syntax(at, "the string is not valid UTF-8")
        }
        return text
    }

    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    static func hasZeroByte(_ word: UInt64) -> Bool { ((word &- ones) & ~word & highs) != 0 }

    private static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
        guard at + 4 <= raw.count else { return nil }
        var value: UInt32 = 0
        for k in at..<(at + 4) {
            let c = raw[k]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return String(format: "byte 0x%02X", byte)
    }
}
