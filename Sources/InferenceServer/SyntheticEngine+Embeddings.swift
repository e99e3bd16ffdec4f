import InferenceEngine
import LLMTokenizer

/// `/v1/embeddings` on the synthetic engine: no model, deterministic vectors at the chat prompt's timing.
///
/// - Tokens: a text input counts its whitespace-separated words (as a completion prompt does); a token-id
///   input counts its ids. `usage.prompt_tokens` is the sum over the inputs.
/// - Vector: `embeddingWidth` (384) values drawn from a SplitMix64 seeded with an FNV-1a hash of the input's
///   tokens (its words, or its ids), scaled to unit length: equal tokens, equal vectors.
/// - Timing: each input is one prefill, which the synthetic engine models as `ttftMs` (a chat request's first
///   token is due `ttftMs` after arrival, whatever its prompt): the answer is due `inputs × ttftMs` after
///   arrival (an absolute deadline, as for tokens).
extension SyntheticEngine {
    /// The width of the synthetic engine's embeddings.
    public static let embeddingWidth = 384

    public var embeddingWidth: Int { Self.embeddingWidth }

    public func prepareEmbedding(_ input: EmbeddingInput) throws -> PreparedPrompt {
        switch input.content {
        case .text(let text): return PreparedPrompt(text: text, tokenCount: Self.wordCount(text))
        case .tokens(let ids): return PreparedPrompt(text: "", tokenIDs: ids, tokenCount: ids.count)
        }
    }

    public func embed(_ request: EmbeddingRequest) async throws -> [[Float]] {
        let prefill = Self.nanos(milliseconds: configuration.ttftMs)
        let due = request.arrivalNanos &+ UInt64(request.prompts.count) &* prefill
        if due > MonotonicClock.nowNanos() { try await MonotonicClock.sleep(untilNanos: due) }
        return request.prompts.map { Self.embedding(of: $0) }
    }

    /// The unit vector of a prepared input: seeded by its token ids when it has them, else by its words.
    static func embedding(of prompt: PreparedPrompt) -> [Float] {
        var random = SplitMix64(state: tokenHash(prompt))
        let values = (0..<embeddingWidth).map { _ in Double(random.next() >> 11) / Double(1 << 53) * 2 - 1 }
        return EmbeddingVector.unitLength(values)
    }

    /// FNV-1a over the input's tokens: each word's bytes followed by a separator, or each id's four bytes after a
    /// marker (so the text "1 2" and the ids [1, 2] differ).
    static func tokenHash(_ prompt: PreparedPrompt) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        if prompt.tokenIDs.isEmpty {
            // The words `wordCount` counts: split on ASCII whitespace, each followed by one space.
            var inWord = false
            for byte in prompt.text.utf8 {
                if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                    if inWord { mix(0x20) }
                    inWord = false
                } else {
                    mix(byte)
                    inWord = true
                }
            }
            if inWord { mix(0x20) }
        } else {
            mix(0xFF)
            for id in prompt.tokenIDs {
                for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8(truncatingIfNeeded: id >> Int32(shift))) }
            }
        }
        return hash
    }
}
