/// Applies `stop` sequences to streamed text: text that could be the start of a stop sequence is
/// held back until it is known not to be one; a match ends the output just before the sequence.
struct StopSequenceMatcher: Sendable {
    private let sequences: [String]
    private let longest: Int
    private var pending = ""
    /// The sequence that matched (the earliest in the text), once one did.
    private(set) var matchedSequence: String?

    init(sequences: [String]) {
        self.sequences = sequences
        self.longest = sequences.map(\.count).max() ?? 0
    }

    /// Feeds more text; returns what may be sent now, and whether a stop sequence matched (then nothing more follows).
    mutating func feed(_ text: String) -> (text: String, matched: Bool) {
        pending += text
        var earliest: String.Index?
        for sequence in sequences {
            if let range = pending.firstRange(of: sequence), earliest.map({ range.lowerBound < $0 }) ?? true {
                earliest = range.lowerBound
                matchedSequence = sequence
            }
        }
        if let earliest {
            let out = String(pending[..<earliest])
            pending = ""
            return (out, true)
        }
        var hold = min(longest - 1, pending.count)
        while hold > 0 {
            let tail = pending.suffix(hold)
            if sequences.contains(where: { $0.hasPrefix(tail) }) { break }
            hold -= 1
        }
        let cut = pending.index(pending.endIndex, offsetBy: -hold)
        let out = String(pending[..<cut])
        pending = String(pending[cut...])
        return (out, false)
    }

    /// What is still held back, once the stream ended without a match.
    mutating func drain() -> String {
        defer { pending = "" }
        return pending
    }
}
