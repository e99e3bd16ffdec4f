/// Why a vocabulary file (a `.gguf` or a Hugging Face `tokenizer.json`) could not become a `Tokenizer`: each case
/// names the file and what was expected of it.
public enum TokenizerFileError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case badJSON(path: String, reason: String)
    /// The file holds something this tokenizer does not implement (`what` it found, what it takes instead).
    case unsupported(path: String, found: String, expected: String)
    /// A key the file must have is missing or has the wrong shape.
    case missing(path: String, key: String, expected: String)
    case unknownFormat(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case .badJSON(let path, let reason):
            return "\(path) is not valid JSON (expected a Hugging Face tokenizer.json): \(reason)"
        case .unsupported(let path, let found, let expected):
            return "\(path): \(found) is not supported (expected \(expected))"
        case .missing(let path, let key, let expected):
            return "\(path): \(key) is missing or malformed (expected \(expected))"
        case .unknownFormat(let path):
            return "\(path): expected a .gguf model file or a Hugging Face tokenizer.json"
        }
    }
}
