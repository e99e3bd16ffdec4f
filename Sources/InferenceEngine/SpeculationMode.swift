/// How a server drafts tokens for speculative decoding, as written on the command line:
/// `off`, `ngram`, `draft:PATH`, `self:q4_0` or `self:q8_0`.
public enum SpeculationMode: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// No speculation.
    case off
    /// Prompt lookup (`NGramDrafter`).
    case ngram
    /// A separate GGUF model with the target's vocabulary (`ModelDrafter`).
    case draft(path: String)
    /// The target's own file reloaded with its weights converted to `q4_0` or `q8_0` (`ModelDrafter`).
    case selfQuantized(WeightFormat)

    /// Weight formats `self:` accepts.
    public static let selfQuantizedFormats: [WeightFormat] = [.q4_0, .q8_0]

    /// Why a mode's text was not understood.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// The text given.
        public let text: String
        public let description: String
    }

    /// Parses `off`, `ngram`, `draft:PATH` or `self:FORMAT`. Keywords and formats are matched in any case; the path
    /// is kept as given (it may contain `:`).
    public init(argument text: String) throws {
        let lowered = text.lowercased()
        if lowered == "off" {
            self = .off
        } else if lowered == "ngram" {
            self = .ngram
        } else if lowered.hasPrefix("draft:") {
            let path = String(text.dropFirst("draft:".count))
            guard !path.isEmpty else {
                throw ParseError(text: text, description: "speculation mode 'draft:' needs a model path: draft:PATH")
            }
            self = .draft(path: path)
        } else if lowered.hasPrefix("self:") {
            let name = String(text.dropFirst("self:".count))
            guard let format = WeightFormat(rawValue: name.lowercased()), Self.selfQuantizedFormats.contains(format)
            else {
                let formats = Self.selfQuantizedFormats.map { "self:\($0.rawValue)" }.joined(separator: " or ")
                throw ParseError(
                    text: text,
                    description: "unsupported self-draft weight format '\(name)' in '\(text)': expected \(formats)")
            }
            self = .selfQuantized(format)
        } else {
            throw ParseError(
                text: text,
                description:
                    "unknown speculation mode '\(text)': expected off, ngram, draft:PATH, self:q4_0 or self:q8_0")
        }
    }

    /// The command-line text; `SpeculationMode(argument: mode.description) == mode`.
    public var description: String {
        switch self {
        case .off: return "off"
        case .ngram: return "ngram"
        case .draft(let path): return "draft:\(path)"
        case .selfQuantized(let format): return "self:\(format.rawValue)"
        }
    }

    /// Whether tokens are drafted at all.
    public var isEnabled: Bool { self != .off }

    /// Whether the mode drafts with a model (which the caller loads: the `draft:` file, or the target's file with
    /// `selfQuantized`'s weight format).
    public var needsDraftModel: Bool {
        switch self {
        case .off, .ngram: return false
        case .draft, .selfQuantized: return true
        }
    }
}
