import Foundation

/// Why a replay trace could not be read: the file, the line (1-based; nil for the whole file) and
/// what was expected, as `datasets/trace.csv:7: expected …`.
public struct ReplayTraceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// Reads a recorded trace into `ReplayRequest`s, one a row, offsets counted from the first row.
///
/// - `mooncake`: JSON lines `{"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [..]}`.
/// - `jsonl`: JSON lines `{"timestamp_ms": ms, "input_tokens": n, "output_tokens": n, "hash_ids": [..]}`
///   (`hash_ids` optional).
/// - `azure`: CSV with the header `TIMESTAMP,ContextTokens,GeneratedTokens`; `TIMESTAMP` is a date and
///   time (`2023-11-16 18:15:46.6805900`, up to 9 fraction digits, read as UTC: only differences count).
/// - `burstgpt`: CSV whose header names `Timestamp` (seconds), `Request tokens` and `Response tokens`
///   among other columns, in any order. Rows with 0 response tokens are the log's failed requests
///   and are skipped, as the dataset's own `without_fails` files skip them.
///
/// Blank lines are skipped. Rows must be in time order (equal times are fine): a row earlier than the
/// one before it is an error, not sorted away, because `limit` takes the first rows of the file and a
/// file out of order is usually two traces joined by mistake. Every count must be a whole number ≥ 1.
public enum ReplayTraceParser {
    public static func parse(_ text: String, format: ReplayFormat, file: String) throws(ReplayTraceError)
        -> [ReplayRequest]
    {
        var rows: [(nanos: Int64, request: ReplayRequest)] = []
        var reader = Reader(file: file)
        switch format {
        case .mooncake:
            try reader.jsonLines(
                text, keys: .init(time: "timestamp", input: "input_length", output: "output_length"), into: &rows)
        case .jsonl:
            try reader.jsonLines(
                text, keys: .init(time: "timestamp_ms", input: "input_tokens", output: "output_tokens"), into: &rows)
        case .azure:
            try reader.csv(
                text, columns: ["TIMESTAMP", "ContextTokens", "GeneratedTokens"], time: .dateTime,
                skipsZeroOutput: false, into: &rows)
        case .burstgpt:
            try reader.csv(
                text, columns: ["Timestamp", "Request tokens", "Response tokens"], time: .seconds,
                skipsZeroOutput: true, into: &rows)
        }
        guard let first = rows.first else {
            throw ReplayTraceError(file: file, line: nil, message: "expected at least one request row, found none")
        }
        var previous = first
        var requests: [ReplayRequest] = []
        requests.reserveCapacity(rows.count)
        for row in rows {
            if row.nanos < previous.nanos {
                throw ReplayTraceError(
                    file: file, line: row.request.line,
                    message: "expected rows in time order: this row is earlier than line \(previous.request.line) "
                        + "(sort the file by its timestamp)")
            }
            previous = row
            var request = row.request
            request.offsetNanos = UInt64(row.nanos - first.nanos)
            requests.append(request)
        }
        return requests
    }

    struct JSONKeys {
        var time: String
        var input: String
        var output: String
    }

    enum TimeColumn {
        case dateTime
        case seconds
    }

    struct Reader {
        var file: String

        func fail(_ line: Int, _ message: String) -> ReplayTraceError {
            ReplayTraceError(file: file, line: line, message: message)
        }

        /// Non-blank lines with their numbers (`\n` or `\r\n` ends a line: one `Character` in Swift).
        static func lines(_ text: String) -> [(number: Int, text: Substring)] {
            var result: [(Int, Substring)] = []
            let split = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            for (index, line) in split.enumerated() {
                if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                result.append((index + 1, line))
            }
            return result
        }

        func jsonLines(_ text: String, keys: JSONKeys, into rows: inout [(nanos: Int64, request: ReplayRequest)])
            throws(ReplayTraceError)
        {
            let expected = "a JSON object with \(keys.time), \(keys.input), \(keys.output) and optional hash_ids"
            for (number, line) in Self.lines(text) {
                guard let data = line.data(using: .utf8),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                else { throw fail(number, "expected \(expected), got \(Self.excerpt(line))") }
                guard let timeValue = object[keys.time] else { throw fail(number, "expected \(keys.time) (ms)") }
                guard let text = Self.numberText(timeValue),
                    let nanos = ReplayTraceParser.decimalNanos(Substring(text), unitNanos: 1_000_000)
                else { throw fail(number, "expected \(keys.time) to be a number of ms ≥ 0, got \(timeValue)") }
                let input = try count(object[keys.input], keys.input, line: number)
                let output = try count(object[keys.output], keys.output, line: number)
                var hashIDs: [UInt64] = []
                if let idsValue = object["hash_ids"], !(idsValue is NSNull) {
                    guard let ids = idsValue as? [Any] else {
                        throw fail(number, "expected hash_ids to be a list of whole numbers ≥ 0")
                    }
                    for id in ids {
                        guard let text = Self.numberText(id), let value = UInt64(text) else {
                            throw fail(number, "expected hash_ids to be a list of whole numbers ≥ 0, found \(id)")
                        }
                        hashIDs.append(value)
                    }
                }
                rows.append(
                    (
                        nanos,
                        ReplayRequest(
                            offsetNanos: 0, inputTokens: input, outputTokens: output, hashIDs: hashIDs, line: number)
                    ))
            }
        }

        func count(_ value: Any?, _ key: String, line: Int) throws(ReplayTraceError) -> Int {
            guard let value else { throw fail(line, "expected \(key) (a whole number ≥ 1)") }
            guard let text = Self.numberText(value), let number = Int(text), number >= 1 else {
                throw fail(line, "expected \(key) to be a whole number ≥ 1, got \(value)")
            }
            return number
        }

        /// A JSON number's text (nil for anything that is not a number).
        static func numberText(_ value: Any) -> String? {
            guard !(value is String), let number = value as? NSNumber else { return nil }
            return number.stringValue
        }

        static func excerpt(_ line: Substring) -> String {
            line.count > 60 ? "'" + line.prefix(60) + "…'" : "'" + line + "'"
        }

        func csv(
            _ text: String, columns: [String], time: TimeColumn, skipsZeroOutput: Bool,
            into rows: inout [(nanos: Int64, request: ReplayRequest)]
        ) throws(ReplayTraceError) {
            let lines = Self.lines(text)
            guard let header = lines.first else { return }
            let names = Self.fields(header.text).map { $0.trimmingCharacters(in: .whitespaces) }
            var positions: [Int] = []
            for column in columns {
                guard let position = names.firstIndex(of: column) else {
                    throw fail(
                        header.number,
                        "expected a header naming the columns \(columns.joined(separator: ", ")); no \(column) in "
                            + Self.excerpt(header.text))
                }
                positions.append(position)
            }
            let needed = (positions.max() ?? 0) + 1
            for (number, line) in lines.dropFirst() {
                let fields = Self.fields(line)
                guard fields.count >= needed else {
                    throw fail(number, "expected \(names.count) comma-separated fields, got \(fields.count)")
                }
                let timeText = fields[positions[0]].trimmingCharacters(in: .whitespaces)
                let nanos: Int64
                switch time {
                case .dateTime:
                    guard let value = ReplayTraceParser.dateTimeNanos(Substring(timeText)) else {
                        throw fail(
                            number,
                            "expected \(columns[0]) to be a date and time such as 2023-11-16 18:15:46.6805900, got '\(timeText)'"
                        )
                    }
                    nanos = value
                case .seconds:
                    guard let value = ReplayTraceParser.decimalNanos(Substring(timeText), unitNanos: 1_000_000_000)
                    else {
                        throw fail(number, "expected \(columns[0]) to be a number of seconds ≥ 0, got '\(timeText)'")
                    }
                    nanos = value
                }
                let inputText = fields[positions[1]].trimmingCharacters(in: .whitespaces)
                let outputText = fields[positions[2]].trimmingCharacters(in: .whitespaces)
                guard let input = Int(inputText), input >= 1 else {
                    throw fail(number, "expected \(columns[1]) to be a whole number ≥ 1, got '\(inputText)'")
                }
                guard let output = Int(outputText), output >= 0 else {
                    throw fail(number, "expected \(columns[2]) to be a whole number ≥ 1, got '\(outputText)'")
                }
                if output == 0 {
                    if skipsZeroOutput { continue }
                    throw fail(number, "expected \(columns[2]) to be a whole number ≥ 1, got '0'")
                }
                rows.append(
                    (nanos, ReplayRequest(offsetNanos: 0, inputTokens: input, outputTokens: output, line: number)))
            }
        }

        /// A CSV line's fields: commas split, a field in double quotes may hold commas (`""` is a quote).
        static func fields(_ line: Substring) -> [String] {
            var fields: [String] = []
            var current = ""
            var quoted = false
            var iterator = line.makeIterator()
            var pendingQuote = false
            while let character = iterator.next() {
                if quoted {
                    if pendingQuote {
                        pendingQuote = false
                        if character == "\"" {
                            current.append("\"")
                            continue
                        }
                        quoted = false
                    } else if character == "\"" {
                        pendingQuote = true
                        continue
                    } else {
                        current.append(character)
                        continue
                    }
                }
                if character == "," {
                    fields.append(current)
                    current = ""
                } else if character == "\"" && current.allSatisfy({ $0 == " " }) {
                    current = ""
                    quoted = true
                } else {
                    current.append(character)
                }
            }
            fields.append(current)
            return fields
        }
    }

    /// `12`, `12.5`, `0.000001` in units of `unitNanos` as whole nanoseconds (rounded down past 1 ns); nil
    /// for anything else (signs, exponents, empty text).
    static func decimalNanos(_ text: Substring, unitNanos: Int64) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), let units = Int64(whole)
        else { return nil }
        var nanos = units.multipliedReportingOverflow(by: unitNanos)
        guard !nanos.overflow else { return nil }
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
            var scale = unitNanos
            var value: Int64 = 0
            for digit in fraction.utf8 {
                guard scale >= 10 else { break }
                scale /= 10
                value += Int64(digit - 48) * scale
            }
            nanos = nanos.partialValue.addingReportingOverflow(value)
            guard !nanos.overflow else { return nil }
        }
        return nanos.partialValue
    }

    /// `YYYY-MM-DD HH:MM:SS[.fraction]` (a `T` between date and time, and a trailing `Z`, accepted) as
    /// nanoseconds since 1970-01-01 00:00:00 UTC; nil when it is not one.
    static func dateTimeNanos(_ text: Substring) -> Int64? {
        var text = text
        if text.hasSuffix("Z") { text = text.dropLast() }
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes[4] == 45, bytes[7] == 45, bytes[10] == 32 || bytes[10] == 84,
            bytes[13] == 58, bytes[16] == 58
        else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fractionNanos: Int64 = 0
        if bytes.count > 19 {
            guard bytes[19] == 46, bytes.count > 20 else { return nil }
            var scale: Int64 = 1_000_000_000
            for byte in bytes[20...] {
                guard byte >= 48 && byte <= 57 else { return nil }
                if scale >= 10 {
                    scale /= 10
                    fractionNanos += Int64(byte - 48) * scale
                }
            }
        }
        // Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        return seconds * 1_000_000_000 + fractionNanos
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
