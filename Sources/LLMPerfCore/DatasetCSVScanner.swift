import Foundation

/// Reads the rows of a CSV dataset (RFC 4180) out of a window of its bytes: fields separated by
/// commas, rows by LF or CRLF; a field in double quotes may hold commas, line breaks and quotes
/// (written twice, `""`). Blank rows are skipped. Like `DatasetJSONScanner`, it says `needMore`
/// when the window ends inside a row and the file goes on.
struct DatasetCSVScanner {
    typealias Failure = DatasetJSONScanner.Failure

    struct State: Equatable {
        var line = 1
        var lineStart = 0
    }

    /// One row: each field's text and where it starts.
    struct Row {
        var fields: [(text: String, position: DatasetPosition)]
        var line: Int
    }

    let base: UnsafePointer<UInt8>
    let count: Int
    let baseOffset: Int
    let atEOF: Bool
    var pos = 0
    var state: State

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

    private mutating func newLine() {
        state.line += 1
        state.lineStart = baseOffset + pos
    }

    /// The next non-blank row, or nil at the end of the file.
    mutating func nextRow() throws(Failure) -> Row? {
        if baseOffset + pos == 0, count >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF {
            pos = 3  // a byte-order mark
            state.lineStart = 3
        }
        // Blank rows.
        while pos < count, base[pos] == 0x0A || base[pos] == 0x0D {
            pos += 1
            if base[pos - 1] == 0x0A { newLine() }
        }
        guard pos < count else {
            if atEOF { return nil }
            throw .needMore
        }
        let line = state.line
        var fields: [(text: String, position: DatasetPosition)] = []
        while true {
            let at = position
            var bytes: [UInt8] = []
            if pos < count, base[pos] == UInt8(ascii: "\"") {
                pos += 1
                while true {
                    guard pos < count else {
                        if atEOF { throw .syntax(at, "unexpected end of file: a quoted field is not closed") }
                        throw .needMore
                    }
                    let c = base[pos]
                    pos += 1
                    if c == UInt8(ascii: "\"") {
                        guard pos < count || atEOF else { throw .needMore }
                        if pos < count, base[pos] == UInt8(ascii: "\"") {
                            bytes.append(c)
                            pos += 1
                            continue
                        }
                        break
                    }
                    bytes.append(c)
                    if c == 0x0A { newLine() }
                }
                if pos < count, base[pos] != UInt8(ascii: ","), base[pos] != 0x0A, base[pos] != 0x0D {
                    throw .syntax(
                        position,
                        "expected ',' or the end of the row after a quoted field, got "
                            + DatasetJSONScanner.describe(base[pos]))
                }
            } else {
                while pos < count {
                    let c = base[pos]
                    if c == UInt8(ascii: ",") || c == 0x0A || c == 0x0D { break }
                    if c == UInt8(ascii: "\"") {
                        throw .syntax(
                            position, "a quote inside an unquoted field (quote the whole field, doubling its quotes)")
                    }
                    bytes.append(c)
                    pos += 1
                }
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .syntax(at, "the field is not valid UTF-8")
            }
            fields.append((text, at))
            guard pos < count else {
                if atEOF { return Row(fields: fields, line: line) }
                throw .needMore
            }
            let c = base[pos]
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == 0x0D {
                guard pos < count || atEOF else { throw .needMore }
                if pos < count, base[pos] == 0x0A { pos += 1 }
            }
            newLine()
            return Row(fields: fields, line: line)
        }
    }
}
