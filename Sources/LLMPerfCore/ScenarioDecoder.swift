import Foundation

/// Turns one scenario tree (the base document, or the base merged with one variant) into a
/// `Scenario`, checking every key and value. The sections live in their own files
/// (`ScenarioDecoder+Target.swift`, …); this file holds the shared value readers, each of
/// which throws a `ScenarioError` pointing at the offending value.
struct ScenarioDecoder {
    /// The scenario file as named to the loader (used in messages).
    var file: String
    /// Directory that relative paths in the scenario are resolved against.
    var directory: String
    var environment: [String: String]
    /// The variant being decoded; nil for a document without variants.
    var variant: String?

    // MARK: errors

    func error(
        _ kind: ScenarioError.Kind, at node: ScenarioNode, _ path: [String], _ message: String
    ) -> ScenarioError {
        error(kind, line: node.line, column: node.column, origin: node.variant, path, message)
    }

    func error(
        _ kind: ScenarioError.Kind, line: Int, column: Int, origin: String?, _ path: [String], _ message: String
    ) -> ScenarioError {
        var keyPath = path.joined(separator: ".")
        if let origin { keyPath = "variants.\(origin)" + (keyPath.isEmpty ? "" : "." + keyPath) }
        return ScenarioError(kind: kind, file: file, line: line, column: column, keyPath: keyPath, message: message)
    }

    func invalid(_ node: ScenarioNode, _ path: [String], expected: String) -> ScenarioError {
        error(.invalidValue, at: node, path, "expected \(expected), got \(node.shortDescription)")
    }

    func missing(_ key: String, in parent: ScenarioNode, _ path: [String], _ message: String? = nil) -> ScenarioError {
        error(.missingKey, at: parent, path + [key], message ?? "missing required key")
    }

    // MARK: structure

    /// The entries of a mapping, after checking that every key is one of `allowed`.
    @discardableResult
    func mapping(_ node: ScenarioNode, _ path: [String], allowed: [String]?, what: String = "a mapping")
        throws(ScenarioError)
        -> [ScenarioNode.Entry]
    {
        guard let entries = node.entries else { throw invalid(node, path, expected: what) }
        if let allowed {
            for entry in entries where !allowed.contains(entry.key) {
                let suggestion = ScenarioSuggestion.closest(to: entry.key, in: allowed)
                let hint =
                    suggestion.map { "did you mean '\($0)'?" } ?? "expected one of \(allowed.joined(separator: ", "))"
                throw error(
                    .unknownKey(suggestion: suggestion), line: entry.keyLine, column: entry.keyColumn,
                    origin: entry.value.variant, path + [entry.key], "unknown key; \(hint)")
            }
        }
        return entries
    }

    /// Fails when both keys are present, blaming the one written last.
    func exclusive(_ first: String, _ second: String, in node: ScenarioNode, _ path: [String], hint: String = "")
        throws(ScenarioError)
    {
        guard let a = node.entry(first), let b = node.entry(second) else { return }
        // Blame the key a variant added; otherwise the one written last.
        let bIsLater =
            a.value.variant == nil && b.value.variant != nil
            || (a.value.variant == nil) == (b.value.variant == nil)
                && (a.keyLine, a.keyColumn) <= (b.keyLine, b.keyColumn)
        let (earlier, later) = bIsLater ? (a, b) : (b, a)
        var message = "cannot be combined with \((path + [earlier.key]).joined(separator: "."))"
        if !hint.isEmpty { message += "; " + hint }
        if later.value.variant != nil {
            message += " (in a variant, set \(earlier.key): null to drop the base document's value)"
        }
        throw error(
            .conflict, line: later.keyLine, column: later.keyColumn, origin: later.value.variant, path + [later.key],
            message)
    }

    // MARK: scalars

    func string(_ node: ScenarioNode, _ path: [String], expected: String = "a string") throws(ScenarioError) -> String {
        guard let text = node.scalarText else { throw invalid(node, path, expected: expected) }
        return text
    }

    func nonEmptyString(_ node: ScenarioNode, _ path: [String], expected: String = "a non-empty string")
        throws(ScenarioError) -> String
    {
        let text = try string(node, path, expected: expected)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw invalid(node, path, expected: expected)
        }
        return text
    }

    func integer(_ node: ScenarioNode, _ path: [String], minimum: Int) throws(ScenarioError) -> Int {
        let expected =
            switch minimum {
            case 0: "a whole number ≥ 0"
            case 1: "a whole number > 0"
            default: "a whole number ≥ \(minimum)"
            }
        guard let text = node.scalarText, let value = Int(text), value >= minimum else {
            throw invalid(node, path, expected: expected)
        }
        return value
    }

    func anyInteger(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> Int {
        guard let text = node.scalarText, let value = Int(text) else {
            throw invalid(node, path, expected: "a whole number")
        }
        return value
    }

    func number(_ node: ScenarioNode, _ path: [String], in range: ClosedRange<Double>, expected: String)
        throws(ScenarioError) -> Double
    {
        guard let text = node.scalarText, let value = ScenarioDecoder.parseNumber(text), range.contains(value) else {
            throw invalid(node, path, expected: expected)
        }
        return value
    }

    func bool(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> Bool {
        switch node.scalarText {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw invalid(node, path, expected: "true or false")
        }
    }

    func choice<T>(_ node: ScenarioNode, _ path: [String], _ choices: [(String, T)]) throws(ScenarioError) -> T {
        let words = choices.map(\.0)
        guard let text = node.scalarText, let match = choices.first(where: { $0.0 == text }) else {
            var message = "expected one of \(words.joined(separator: ", ")), got \(node.shortDescription)"
            if let text = node.scalarText, let suggestion = ScenarioSuggestion.closest(to: text, in: words) {
                message += "; did you mean '\(suggestion)'?"
            }
            throw error(.invalidValue, at: node, path, message)
        }
        return match.1
    }

    func duration(_ node: ScenarioNode, _ path: [String], allowZero: Bool = false) throws(ScenarioError) -> Duration {
        guard let text = node.scalarText, let value = DurationParser.parse(text), allowZero || value > .zero else {
            throw invalid(node, path, expected: DurationParser.expectation)
        }
        return value
    }

    /// `1%` or a fraction `0.01`, as a fraction in 0…1.
    func fraction(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> Double {
        let expected = "a percentage such as 1% or a fraction between 0 and 1"
        guard let text = node.scalarText?.trimmingCharacters(in: .whitespaces) else {
            throw invalid(node, path, expected: expected)
        }
        let value: Double?
        if text.hasSuffix("%") {
            value = ScenarioDecoder.parseNumber(String(text.dropLast()).trimmingCharacters(in: .whitespaces)).map {
                $0 / 100
            }
        } else {
            value = ScenarioDecoder.parseNumber(text)
        }
        guard let value, (0...1).contains(value) else { throw invalid(node, path, expected: expected) }
        return value
    }

    /// A `${VAR}` template expanded from the environment.
    func expanded(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> ScenarioTemplate.Expansion {
        let template = try string(node, path)
        switch ScenarioTemplate.expand(template, environment: environment) {
        case .success(let expansion): return expansion
        case .failure(.missingVariable(let name)):
            throw error(.missingEnvironmentVariable(name), at: node, path, "environment variable \(name) is not set")
        case .failure(.malformed(let message)):
            throw error(.invalidValue, at: node, path, message)
        }
    }

    /// A path written in the scenario, resolved against the scenario's directory.
    func resolvedPath(_ written: String) -> String {
        if written.hasPrefix("/") || directory.isEmpty || directory == "." { return written }
        return directory + "/" + written
    }

    static func parseNumber(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty,
            trimmed.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "." || $0 == "-" || $0 == "+" }),
            let value = Double(trimmed), value.isFinite
        else { return nil }
        return value
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
            }
    }
}
