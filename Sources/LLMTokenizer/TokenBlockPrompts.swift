/// Prompts made of fixed token blocks, as trace replays need them (Mooncake traces give each request `hash_ids`,
/// one per 512-token block, and requests that share leading ids share that prefix).
///
/// Each hash id stands for one block of exactly `blockTokens` tokens, drawn from `ExactTokenText`'s pieces with a
/// seed mixed from `seed` and the id, so the same id always gives the same text, in any prompt and in any run with
/// that seed. A prompt is its ids' blocks in order, cut or padded to exactly `totalTokens` tokens: cut after the
/// piece that reaches the total; padded, past the last block, with filler drawn from all the ids (prompts with the
/// same ids get the same filler). Blocks are cached by id.
public struct TokenBlockPrompts: Sendable {
    public let text: ExactTokenText
    public let blockTokens: Int
    public let seed: UInt64

    struct Block: Sendable {
        var text: String
        /// UTF-8 length of the text up to the end of each piece.
        var ends: [Int]
    }

    private var blocks: [UInt64: Block] = [:]

    /// Builds the tokenizer's pieces (`ExactTokenText`); throws when its vocabulary has too few.
    public init(tokenizer: Tokenizer, blockTokens: Int, seed: UInt64) throws {
        self.init(text: try ExactTokenText(tokenizer: tokenizer), blockTokens: blockTokens, seed: seed)
    }

    /// Shares pieces already built.
    public init(text: ExactTokenText, blockTokens: Int, seed: UInt64) {
        precondition(blockTokens > 0, "blockTokens must be positive")
        self.text = text
        self.blockTokens = blockTokens
        self.seed = seed
    }

    /// How many blocks are cached.
    public var cachedBlocks: Int { blocks.count }

    /// The prompt of exactly `totalTokens` tokens (no BOS or template) for these hash ids.
    public mutating func prompt(hashIDs: [UInt64], totalTokens: Int) -> String {
        var out = ""
        out.reserveCapacity(max(0, totalTokens) * 8)
        var left = max(0, totalTokens)
        for id in hashIDs where left > 0 {
            let block = self.block(id)
            if left >= blockTokens {
                out += block.text
                left -= blockTokens
            } else {
                let utf8 = block.text.utf8
                out += block.text[..<utf8.index(utf8.startIndex, offsetBy: block.ends[left - 1])]
                left = 0
            }
        }
        if left > 0 {
            var key = SplitMix64.mix(seed, 0xF111_E4)
            for id in hashIDs { key = SplitMix64.mix(key, id) }
            var random = SplitMix64(state: key)
            out += text.drawPieces(left, using: &random).joined()
        }
        return out
    }

    private mutating func block(_ id: UInt64) -> Block {
        if let cached = blocks[id] { return cached }
        var random = SplitMix64(state: SplitMix64.mix(seed, id))
        let pieces = text.drawPieces(blockTokens, using: &random)
        var ends: [Int] = []
        ends.reserveCapacity(pieces.count)
        var length = 0
        for piece in pieces {
            length += piece.utf8.count
            ends.append(length)
        }
        let block = Block(text: pieces.joined(), ends: ends)
        blocks[id] = block
        return block
    }
}
