import Foundation

/// A stored sweep, as typed after `sweep:` on the command line (`report`, `compare`, `gate`):
/// `sweep:chat@latest` or `sweep:chat` (the newest sweep of scenario chat), `sweep:chat~1` (the one before
/// it), or `sweep:b1a2b3c4` (its batch id, or a unique prefix of it of 3 characters or more).
public enum SweepReference: Sendable, Equatable {
    case named(String, offset: Int)
    case batch(prefix: String)

    public static let prefix = "sweep:"

    /// Whether a reference names a sweep rather than a run.
    public static func isSweep(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespaces).hasPrefix(prefix)
    }

    public static func parse(_ text: String) throws(RunReferenceError) -> SweepReference {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix(prefix) else {
            throw RunReferenceError(message: "'\(trimmed)' is not a sweep reference (sweep:NAME@latest, sweep:NAME~N)")
        }
        var body = Substring(trimmed.dropFirst(prefix.count))
        func bad(_ reason: String) -> RunReferenceError {
            RunReferenceError(message: "bad sweep reference '\(trimmed)': \(reason)")
        }
        var offset = 0
        if body.hasSuffix("@latest") {
            body = body.dropLast("@latest".count)
        } else if let tilde = body.lastIndex(of: "~") {
            let suffix = body[body.index(after: tilde)...]
            guard !suffix.isEmpty, suffix.allSatisfy(\.isNumber), let n = Int(suffix) else {
                throw bad("expected a number after '~', e.g. sweep:chat~1")
            }
            offset = n
            body = body[..<tilde]
        } else if body.contains("@") {
            throw bad("only '@latest' is supported after '@', e.g. sweep:chat@latest")
        }
        guard !body.isEmpty else { throw bad("expected a scenario name or a sweep id after 'sweep:'") }
        if offset == 0, !trimmed.hasSuffix("@latest"), body.count >= 3, body.first == "b",
            body.dropFirst().allSatisfy(\.isHexDigit)
        {
            return .batch(prefix: String(body))
        }
        return .named(String(body), offset: offset)
    }

    /// The sweep among `records` (newest first or not); an error that lists what there is otherwise.
    public func resolve(in records: [SweepRecord]) throws(RunReferenceError) -> SweepRecord {
        let newestFirst = records.sorted { ($0.startedAt, $0.batchID) > ($1.startedAt, $1.batchID) }
        let known: String
        if newestFirst.isEmpty {
            known = "; no sweep is stored (llmperf sweep makes one)"
        } else {
            let shown = newestFirst.prefix(5).map { "sweep:\($0.name) (\($0.batchID))" }
            known = "; recent: " + shown.joined(separator: ", ")
        }
        switch self {
        case .batch(let prefix):
            let matches = newestFirst.filter { $0.batchID.hasPrefix(prefix) }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw RunReferenceError(
                    message: "sweep id prefix '\(prefix)' is ambiguous: "
                        + matches.map(\.batchID).joined(separator: ", "))
            }
            // A scenario may be called like an id.
            if newestFirst.contains(where: { $0.name == prefix }) {
                return try SweepReference.named(prefix, offset: 0).resolve(in: records)
            }
            throw RunReferenceError(message: "no sweep has an id starting with '\(prefix)'" + known)
        case .named(let name, let offset):
            let sweeps = newestFirst.filter { $0.name == name }
            guard !sweeps.isEmpty else {
                var message = "no sweep of '\(name)'"
                if let suggestion = ScenarioSuggestion.closest(to: name, in: Array(Set(newestFirst.map(\.name)))) {
                    message += "; did you mean 'sweep:\(suggestion)'?"
                }
                throw RunReferenceError(message: message + known)
            }
            guard offset < sweeps.count else {
                throw RunReferenceError(
                    message: "sweep:\(name)~\(offset) does not exist: '\(name)' has \(sweeps.count) "
                        + (sweeps.count == 1 ? "sweep" : "sweeps") + " (sweep:\(name)~0 is the newest)")
            }
            return sweeps[offset]
        }
    }
}
