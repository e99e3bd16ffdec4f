import Foundation
import LLMPerfCore

/// `compare --format json`: the `RunComparison` as it encodes itself, with `breakdownShifts` beside its keys
/// when some candidate and the baseline both have a breakdown (`BreakdownComparison`).
public enum ComparisonJSON {
    struct Document: Encodable {
        var comparison: RunComparison
        var shifts: [BreakdownComparison]

        private enum Keys: String, CodingKey { case breakdownShifts }

        func encode(to encoder: Encoder) throws {
            try comparison.encode(to: encoder)  // its keys at the top, as before
            guard !shifts.isEmpty else { return }
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(shifts, forKey: .breakdownShifts)
        }
    }

    public static func encode(_ comparison: RunComparison, shifts: [BreakdownComparison] = []) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(Document(comparison: comparison, shifts: shifts)), as: UTF8.self)
    }
}
