import Foundation

/// `${VAR}` templates in scenario values (`target.url`, `target.model`, `target.headers.*`,
/// `target.tls.ca_file`):
/// - `${NAME}` is the variable's value; an unset variable is an error naming it;
/// - `${NAME:-fallback}` is the value, or `fallback` when the variable is unset or empty;
/// - `$${` is a literal `${`; any other `$` is literal.
/// NAME is letters, digits and `_`, not starting with a digit.
public enum ScenarioTemplate {
    /// One `${NAME}` or `${NAME:-fallback}` a text names.
    public struct Reference: Equatable, Sendable {
        public var name: String
        /// Whether this reference has a `:-fallback` (the variable may then be unset).
        public var hasFallback: Bool

        public init(name: String, hasFallback: Bool) {
            self.name = name
            self.hasFallback = hasFallback
        }
    }

    /// Every variable reference in `text`, in order, without reading any value: `$${` is skipped as a
    /// literal, and so is a `${…}` that is not a variable reference (an unterminated one ends the scan).
    public static func references(in text: String) -> [Reference] {
        var references: [Reference] = []
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "$", i + 2 < scalars.count, scalars[i + 1] == "$", scalars[i + 2] == "{" {
                i += 3
                continue
            }
            guard scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{" else {
                i += 1
                continue
            }
            guard let close = scalars[(i + 2)...].firstIndex(of: "}") else { break }
            let body = String(String.UnicodeScalarView(scalars[(i + 2)..<close]))
            let separator = body.range(of: ":-")
            let name = separator.map { String(body[..<$0.lowerBound]) } ?? body
            if isVariableName(name) {
                references.append(Reference(name: name, hasFallback: separator != nil))
                i = close + 1
            } else {
                i += 2
            }
        }
        return references
    }

    /// The names of the variables `text` refers to, each once, in order of first mention.
    public static func variableNames(in text: String) -> [String] {
        var seen: Set<String> = []
        return references(in: text).map(\.name).filter { seen.insert($0).inserted }
    }

    struct Expansion: Equatable {
        var value: String
        /// Every variable the template named (with or without a fallback), in order.
        var variables: [String]
    }

    enum Failure: Error, Equatable {
        case missingVariable(String)
        case malformed(String)
    }

    static func expand(_ template: String, environment: [String: String]) -> Result<Expansion, Failure> {
        var output = ""
        var variables: [String] = []
        let scalars = Array(template.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar == "$", i + 2 < scalars.count, scalars[i + 1] == "$", scalars[i + 2] == "{" {
                output += "${"
                i += 3
                continue
            }
            guard scalar == "$", i + 1 < scalars.count, scalars[i + 1] == "{" else {
                output.unicodeScalars.append(scalar)
                i += 1
                continue
            }
            guard let close = scalars[(i + 2)...].firstIndex(of: "}") else {
                return .failure(
                    .malformed("unterminated '${' (close it with '}', or write '$${' for a literal '${')"))
            }
            let body = String(String.UnicodeScalarView(scalars[(i + 2)..<close]))
            var name = body
            var fallback: String?
            if let separator = body.range(of: ":-") {
                name = String(body[..<separator.lowerBound])
                fallback = String(body[separator.upperBound...])
            }
            guard isVariableName(name) else {
                return .failure(
                    .malformed("'${\(body)}' is not a variable reference; expected ${NAME} or ${NAME:-default}"))
            }
            variables.append(name)
            if let value = environment[name], !(fallback != nil && value.isEmpty) {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                return .failure(.missingVariable(name))
            }
            i = close + 1
        }
        return .success(Expansion(value: output, variables: variables))
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
        }
    }
}
