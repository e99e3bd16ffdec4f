import NIOCore

/// JSON string escaping into `String` and straight into `ByteBuffer` (the SSE hot path).
enum JSONText {
    /// Appends `"value"` with JSON escaping.
    static func appendQuoted(_ value: String, to out: inout String) {
        out.append("\"")
        var buffer = ByteBuffer()
        writeEscaped(value, to: &buffer)
        out.append(String(buffer: buffer))
        out.append("\"")
    }

    static func quoted(_ value: String) -> String {
        var out = ""
        appendQuoted(value, to: &out)
        return out
    }

    /// Writes `value` JSON-escaped (without quotes). Text with nothing to escape is copied in one go.
    @inline(__always)
    static func writeEscaped(_ value: String, to buffer: inout ByteBuffer) {
        var value = value
        value.withUTF8 { bytes in
            var needsEscaping = false
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                needsEscaping = true
                break
            }
            if !needsEscaping {
                buffer.writeBytes(bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case 0..<0x20:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigit(byte >> 4))
                    buffer.writeInteger(hexDigit(byte & 0xF))
                default:
                    buffer.writeInteger(byte)
                }
            }
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
