/// The profiler side's one JSON string escaper (request bodies, the JSON report, `extra_body`,
/// the canonical form behind scenario hashes; the server has its own, `JSONText`). `"` and `\`
/// are escaped, line feed, carriage return and tab get their short escapes, and every other
/// control character `\u00XX` (lower-case hex) — except that `.jsonEncoder` also writes `\b`
/// and `\f`, as `JSONEncoder` does, for outputs laid out like it. Nothing else is escaped.
/// Scenario hashes depend on this output: it must not change.
public enum JSONQuoting {
    public enum Escapes: Sendable, Equatable {
        /// `\n`, `\r`, `\t`; other control characters as `\u00XX`.
        case standard
        /// Also `\b` and `\f`, as `JSONEncoder` writes them.
        case jsonEncoder
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal, quotes included, to `bytes`. Inlinable: the JSON
    /// report's writer calls it once per string, and it was that writer's own code before it moved here.
    @inlinable
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8], escapes: Escapes = .standard) {
        bytes.append(0x22)
        for unit in text.utf8 {
            switch unit {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08 where escapes == .jsonEncoder: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C where escapes == .jsonEncoder: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                bytes.append(contentsOf: [
                    0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigit(unit >> 4), hexDigit(unit & 0xF),
                ])
            default: bytes.append(unit)
            }
        }
        bytes.append(0x22)
    }

    @usableFromInline
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
