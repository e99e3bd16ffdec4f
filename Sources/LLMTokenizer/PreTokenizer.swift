import Foundation

/// Splits text into words before byte-level BPE, as named by `tokenizer.ggml.pre`.
/// Each stage is a regular expression; matches and the text between them both become pieces.
package final class PreTokenizer: @unchecked Sendable {
    let name: String
    private let stages: [NSRegularExpression]

    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Known names. Unknown names fall back to `default` (GPT-2) and `isFallback` is set.
    package init(name: String) {
        let patterns: [String]
        switch name {
        case "llama3", "llama-v3", "llama-bpe", "dbrx", "smaug-bpe":
            patterns = [Self.llama3Pattern]
        case "smollm", "starcoder", "refact", "command-r":
            patterns = [#"\p{N}"#, Self.gpt2Pattern]
        default:
            patterns = [Self.gpt2Pattern]
        }
        self.name = name
        stages = patterns.map { try! NSRegularExpression(pattern: $0) }
    }

    package static func isKnown(_ name: String) -> Bool {
        [
            "default", "gpt2", "gpt-2", "llama3", "llama-v3", "llama-bpe", "dbrx", "smaug-bpe", "smollm", "starcoder",
            "refact", "command-r",
        ].contains(name)
    }

    package func split(_ text: String) -> [String] {
        var pieces = [text]
        for regex in stages {
            var next: [String] = []
            for piece in pieces {
                let ns = piece as NSString
                var last = 0
                for match in regex.matches(in: piece, range: NSRange(location: 0, length: ns.length)) {
                    let r = match.range
                    if r.length == 0 { continue }
                    if r.location > last {
                        next.append(ns.substring(with: NSRange(location: last, length: r.location - last)))
                    }
                    next.append(ns.substring(with: r))
                    last = r.location + r.length
                }
                if last < ns.length { next.append(ns.substring(from: last)) }
            }
            pieces = next
        }
        return pieces
    }
}
