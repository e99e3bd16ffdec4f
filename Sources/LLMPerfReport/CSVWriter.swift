import LLMPerfCore

/// Builds RFC 4180 CSV: fields separated by commas, records ended by CRLF, and a field that
/// holds a comma, a double quote, CR or LF enclosed in double quotes with its quotes doubled.
struct CSVWriter {
    private(set) var text = ""
    private var fieldsInRecord = 0

    init(reservingCapacity capacity: Int = 0) { text.reserveCapacity(capacity) }

    /// A field that may need quoting.
    mutating func field(_ value: String) {
        separate()
        text += CSVWriter.quoted(value)
    }

    /// A field known to need no quoting (numbers, fixed words).
    mutating func plain(_ value: String) {
        separate()
        text += value
    }

    /// An empty field when nil.
    mutating func number(_ value: Double?, fractionDigits: Int = 6) {
        separate()
        if let value { DecimalText.append(value, fractionDigits: fractionDigits, to: &text) }
    }

    mutating func integer<T: BinaryInteger>(_ value: T?) {
        separate()
        if let value { text += String(value) }
    }

    mutating func endRecord() {
        text += "\r\n"
        fieldsInRecord = 0
    }

    mutating func record(_ fields: [String]) {
        for value in fields { field(value) }
        endRecord()
    }

    private mutating func separate() {
        if fieldsInRecord > 0 { text += "," }
        fieldsInRecord += 1
    }

    /// `value` as one CSV field.
    static func quoted(_ value: String) -> String {
        var needsQuotes = false
        for unit in value.utf8 where unit == 0x2C || unit == 0x22 || unit == 0x0A || unit == 0x0D {
            needsQuotes = true
            break
        }
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
