import Foundation

/// A reference to a stored run, as typed on the command line (`compare`, `gate`, `report`,
/// `runs show`). Parsing is pure; `resolve(in:)` picks the run among candidate rows the store
/// loaded.
///
/// - `r7f3a2c`, or a unique prefix of an id (`r7f3`, at least 3 characters): `.id`. If no id
///   matches, the text is tried as a bare name (a run may be called `reed`).
/// - `name@latest`: the newest run of that scenario name (any variant); `name~N`: the N-th
///   before it (`name~0` is the newest).
/// - `name/variant` (also with `@latest` or `~N`): that variant of that scenario.
/// - `label:X` (also `label:X~N`): the newest run carrying label X.
/// - a bare word: a scenario name or a variant name, newest run; ambiguous when it names
///   runs of different scenarios or variants in different ways.
/// Newest means latest `startedAt` (ties: larger id).
public enum RunReference: Sendable, Equatable, Hashable, Codable {
    case id(prefix: String)
    case named(name: String, variant: String?, offset: Int)
    case label(String, offset: Int)
    case word(String)

    public static func parse(_ text: String) throws(RunReferenceError) -> RunReference {
        let reference = text.trimmingCharacters(in: .whitespaces)
        guard !reference.isEmpty else {
            throw RunReferenceError(
                message: "empty run reference; expected an id (r7f3a2c), name@latest, name~N, label:X or run/variant")
        }
        func bad(_ reason: String) -> RunReferenceError {
            RunReferenceError(message: "bad run reference '\(reference)': \(reason)")
        }
        // The selector suffix: @latest or ~N.
        var body = Substring(reference)
        var offset: Int?
        if let at = body.lastIndex(of: "@") {
            let suffix = body[body.index(after: at)...]
            guard suffix == "latest" else {
                throw bad(
                    "only '@latest' is supported after '@', e.g. \(body[..<at].isEmpty ? "chat" : body[..<at])@latest")
            }
            offset = 0
            body = body[..<at]
        } else if let tilde = body.lastIndex(of: "~") {
            let suffix = body[body.index(after: tilde)...]
            guard let n = Int(suffix), n >= 0, suffix.allSatisfy(\.isNumber) else {
                throw bad("expected a number after '~', e.g. \(body[..<tilde].isEmpty ? "chat" : body[..<tilde])~1")
            }
            offset = n
            body = body[..<tilde]
        }
        guard !body.isEmpty else { throw bad("expected a run name before '\(offset == 0 ? "@" : "~")'") }
        if body.hasPrefix("label:") {
            let label = body.dropFirst("label:".count)
            guard !label.isEmpty else { throw bad("expected a label after 'label:', e.g. label:pr-123") }
            return .label(String(label), offset: offset ?? 0)
        }
        if let slash = body.firstIndex(of: "/") {
            let name = body[..<slash]
            let variant = body[body.index(after: slash)...]
            guard !name.isEmpty, !variant.isEmpty, !variant.contains("/") else {
                throw bad("expected run/variant, e.g. chat-latency/baseline")
            }
            return .named(name: String(name), variant: String(variant), offset: offset ?? 0)
        }
        if let offset { return .named(name: String(body), variant: nil, offset: offset) }
        if RunReference.looksLikeID(body) { return .id(prefix: String(body)) }
        return .word(String(body))
    }

    /// `r` followed by hex digits, 3 characters or more.
    static func looksLikeID(_ text: Substring) -> Bool {
        text.count >= 3 && text.first == "r" && text.dropFirst().allSatisfy(\.isHexDigit)
    }

    /// The run this reference names among `candidates`, or an error that says why not and
    /// lists what there is.
    public func resolve(in candidates: [RunCandidate]) throws(RunReferenceError) -> RunCandidate {
        let newestFirst = candidates.sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
        switch self {
        case .id(let prefix):
            if let exact = newestFirst.first(where: { $0.id == prefix }) { return exact }
            let matches = newestFirst.filter { $0.id.hasPrefix(prefix) }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw RunReferenceError(
                    message: "run id prefix '\(prefix)' is ambiguous: "
                        + matches.map { "\($0.id) (\($0.displayName))" }.joined(separator: ", "))
            }
            if newestFirst.contains(where: { $0.name == prefix || $0.variant == prefix }) {
                return try RunReference.word(prefix).resolve(in: candidates)
            }
            throw RunReference.unknown("no run has an id starting with '\(prefix)'", newestFirst, word: nil)
        case .named(let name, let variant, let offset):
            let runs = newestFirst.filter { $0.name == name && (variant == nil || $0.variant == variant) }
            let shown = variant.map { "\(name)/\($0)" } ?? name
            guard !runs.isEmpty else {
                var message = "no run of '\(shown)'"
                if variant == nil, let owner = newestFirst.first(where: { $0.variant == name }) {
                    message += "; '\(name)' is a variant: write \(owner.name)/\(name)"
                    throw RunReferenceError(message: message + RunReference.recent(newestFirst))
                }
                throw RunReference.unknown(message, newestFirst, word: variant ?? name)
            }
            return try RunReference.pick(runs, offset: offset, shown: shown)
        case .label(let label, let offset):
            let runs = newestFirst.filter { $0.labels.contains(label) }
            guard !runs.isEmpty else {
                let labels = Array(Set(newestFirst.flatMap(\.labels))).sorted()
                var message = "no run has label '\(label)'"
                if let suggestion = ScenarioSuggestion.closest(to: label, in: labels) {
                    message += "; did you mean 'label:\(suggestion)'?"
                }
                message += labels.isEmpty ? "; no run has a label" : "; labels: \(labels.joined(separator: ", "))"
                throw RunReferenceError(message: message)
            }
            return try RunReference.pick(runs, offset: offset, shown: "label:\(label)")
        case .word(let word):
            let matches = newestFirst.filter { $0.name == word || $0.variant == word }
            guard !matches.isEmpty else {
                throw RunReference.unknown("no run named '\(word)'", newestFirst, word: word)
            }
            let byName = matches.filter { $0.name == word }
            let byVariant = matches.filter { $0.variant == word }
            let variantOwners = Set(byVariant.map(\.name))
            if !byName.isEmpty && byVariant.isEmpty { return byName[0] }
            if byName.isEmpty && variantOwners.count == 1 { return byVariant[0] }
            var ways: [String] = []
            if !byName.isEmpty { ways.append("\(word)@latest") }
            ways += variantOwners.sorted().map { "\($0)/\(word)" }
            throw RunReferenceError(
                message: "'\(word)' is ambiguous: it names runs in different ways; write one of: "
                    + ways.joined(separator: ", "))
        }
    }

    private static func pick(_ runs: [RunCandidate], offset: Int, shown: String) throws(RunReferenceError)
        -> RunCandidate
    {
        guard offset < runs.count else {
            let count = runs.count == 1 ? "1 run" : "\(runs.count) runs"
            let range = runs.count == 1 ? "\(shown)~0" : "\(shown)~0 to \(shown)~\(runs.count - 1)"
            throw RunReferenceError(message: "'\(shown)~\(offset)' does not exist: '\(shown)' has \(count) (\(range))")
        }
        return runs[offset]
    }

    private static func unknown(_ message: String, _ newestFirst: [RunCandidate], word: String?) -> RunReferenceError {
        var text = message
        if let word {
            let names = Array(Set(newestFirst.flatMap { [$0.name] + ($0.variant.map { [$0] } ?? []) })).sorted()
            if let suggestion = ScenarioSuggestion.closest(to: word, in: names) {
                text += "; did you mean '\(suggestion)'?"
            }
        }
        return RunReferenceError(message: text + recent(newestFirst))
    }

    /// `; recent runs: r7f3a2c chat/short (2026-11-25 09:31), …` (at most 5), or `; there are no runs`.
    static func recent(_ newestFirst: [RunCandidate]) -> String {
        guard !newestFirst.isEmpty else { return "; there are no runs" }
        let shown = newestFirst.prefix(5).map { "\($0.id) \($0.displayName) (\(RunReference.format($0.startedAt)))" }
        let more = newestFirst.count > 5 ? ", … (\(newestFirst.count - 5) more)" : ""
        return "; recent runs: " + shown.joined(separator: ", ") + more
    }

    /// `2026-11-25 09:31` in UTC.
    static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }
}

/// What a reference is resolved against: one stored run's identity.
public struct RunCandidate: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var variant: String?
    public var labels: [String]
    public var startedAt: Date

    public init(id: String, name: String, variant: String? = nil, labels: [String] = [], startedAt: Date) {
        self.id = id
        self.name = name
        self.variant = variant
        self.labels = labels
        self.startedAt = startedAt
    }

    public init(info: RunInfo) {
        self.init(id: info.id, name: info.name, variant: info.variant, labels: info.labels, startedAt: info.startedAt)
    }

    /// `name` or `name/variant`.
    public var displayName: String { variant.map { "\(name)/\($0)" } ?? name }
}

public struct RunReferenceError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public var message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
    public var errorDescription: String? { message }
}
