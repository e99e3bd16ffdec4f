import Foundation

/// Why an exposition could not be parsed, and where: `line` and `column` count from 1, the column
/// in Unicode scalars from the start of the line. Its description reads
/// `line 7, column 23: expected '=' after label name 'model'`.
public struct PrometheusParseError: Error, CustomStringConvertible, Equatable, Sendable {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}
