/// Text of an exact number of tokens for one tokenizer.
///
/// Rule: the text is a run of *pieces*, each a space and a few lowercase ASCII letters that the tokenizer encodes
/// as exactly one token (`" time"` → one id). The pieces are taken from the vocabulary itself (its first such
/// tokens by id, which byte-pair vocabularies order by frequency) and kept only when encoding the piece alone gives
/// that one token back. Then the set is checked as a whole: a long seeded run of every piece must encode to one
/// token per piece (nothing merges across a boundary); pieces seen merging with a neighbour are dropped until it
/// does. With a pre-tokenizer that splits before each space (every byte-level BPE here) that holds by
/// construction, so `n` pieces are `n` tokens, and cutting a text after its k-th piece leaves k tokens.
public struct ExactTokenText: Sendable {
    public enum BuildError: Error, CustomStringConvertible, Equatable {
        /// The vocabulary has too few stable one-token words to build text from.
        case tooFewPieces(found: Int)

        public var description: String {
            switch self {
            case .tooFewPieces(let found):
                return "the tokenizer's vocabulary has \(found) one-token words that stay one token side by side; "
                    + "exact-length prompts need at least \(ExactTokenText.minimumPieces)"
            }
        }
    }

    public let tokenizer: Tokenizer
    /// The pieces, each one token, any sequence of them one token per piece.
    public let pieces: [String]

    static let minimumPieces = 8
    /// How many candidate tokens the vocabulary scan keeps (the first by id).
    static let candidateLimit = 2048

    public init(tokenizer: Tokenizer) throws {
        self.tokenizer = tokenizer
        var candidates: [String: Int32] = [:]
        for id in 0..<tokenizer.vocabularySize where candidates.count < Self.candidateLimit {
            let token = Int32(id)
            if tokenizer.isSpecial(token) { continue }
            let bytes = tokenizer.bytes(of: token)
            guard bytes.count >= 3, bytes.count <= 11, bytes[0] == 0x20,
                bytes.dropFirst().allSatisfy({ (0x61...0x7A).contains($0) })
            else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            guard tokenizer.encode(text, addSpecial: false, parseSpecial: false) == [token] else { continue }
            candidates[text] = token
        }
        // A long run of every piece in a seeded order must encode one token per piece; the pieces around the first
        // place it does not are dropped, and the check runs again (in another order).
        var pieces = candidates.keys.sorted { candidates[$0]! < candidates[$1]! }
        for round in 0..<8 {
            var random = SplitMix64(state: UInt64(round) &+ 0x5EED)
            let run = pieces.shuffled(using: &random)
            let ids = tokenizer.encode(run.joined(), addSpecial: false, parseSpecial: false)
            let expected = run.map { candidates[$0]! }
            guard ids != expected else { break }
            let shorter = min(ids.count, expected.count)
            let first = (0..<shorter).first { ids[$0] != expected[$0] } ?? shorter
            var unstable = Set([run[min(run.count - 1, first)], run[min(run.count - 1, first + 1)]])
            if round == 7 { unstable = Set(pieces) }
            pieces.removeAll { unstable.contains($0) }
        }
        guard pieces.count >= Self.minimumPieces else { throw BuildError.tooFewPieces(found: pieces.count) }
        self.pieces = pieces
    }

    /// `count` pieces drawn uniformly with `random`.
    public func drawPieces(_ count: Int, using random: inout SplitMix64) -> [String] {
        (0..<max(0, count)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }
    }

    /// Text of exactly `tokens` tokens (without BOS or any template) from the seed, checked by encoding it: should a
    /// boundary merge after all, pieces are added or removed at the tail until the count is right.
    public func text(tokens: Int, seed: UInt64) -> String {
        var random = SplitMix64(state: seed)
        var chosen = drawPieces(tokens, using: &random)
        for _ in 0..<16 {
            let count = self.count(chosen.joined())
            if count == tokens { break }
            if count > tokens {
                chosen.removeLast(min(chosen.count, count - tokens))
            } else {
                chosen += drawPieces(tokens - count, using: &random)
            }
        }
        return chosen.joined()
    }

    /// Tokens of `text` as a prompt's text (no BOS, special tokens not parsed).
    public func count(_ text: String) -> Int {
        tokenizer.encode(text, addSpecial: false, parseSpecial: false).count
    }
}
