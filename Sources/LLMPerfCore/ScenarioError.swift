import Foundation

/// Why a scenario file could not be loaded. `description` is the text shown to the user:
///
///     scenarios/x.yml:7:3: load.concurency: unknown key; did you mean 'concurrency'?
///
/// i.e. the file, the line and column (1-based, columns counted in Unicode scalars), the key
/// path (`variants.<name>.` in front when the offending value came from a variant's
/// overrides), and what was expected. The loader stops at the first error it finds.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The scenario file itself could not be read (missing, a directory, not UTF-8).
        case unreadableFile
        /// The text is not valid YAML (or repeats a key in one mapping).
        case syntax
        /// The file holds no document at all.
        case empty
        /// A key the format does not know; `suggestion` is the closest known key, if any is close.
        case unknownKey(suggestion: String?)
        /// A required key is absent.
        case missingKey
        /// A value of the wrong type, out of range, or not one of the allowed words.
        case invalidValue
        /// Two keys that exclude each other (`concurrency` and `rate`, `url` and `backend`, …).
        case conflict
        /// A `${VAR}` template referenced a variable the environment does not set.
        case missingEnvironmentVariable(String)
        /// A file the scenario refers to (`prompt_file`, `tls.ca_file`) is missing or unusable.
        case referencedFile
    }

    public var kind: Kind
    /// The scenario file as it was named to the loader.
    public var file: String
    public var line: Int?
    public var column: Int?
    /// Dotted path of the offending key, e.g. `target.headers.Authorization`; nil for file-level errors.
    public var keyPath: String?
    public var message: String

    public init(kind: Kind, file: String, line: Int? = nil, column: Int? = nil, keyPath: String? = nil, message: String)
    {
        self.kind = kind
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        if kind == .unreadableFile { return message }
        var text = file
        if let line, let column { text += ":\(line):\(column)" }
        text += ": "
        if let keyPath, !keyPath.isEmpty { text += keyPath + ": " }
        return text + message
    }
}
