import Foundation
import LLMTokenizer

@testable import InferenceEngine

/// Deterministic random numbers for test weights (SplitMix64).
public struct TestRandom {
    public var generator: SplitMix64

    public init(state: UInt64) { generator = SplitMix64(state: state) }
    public mutating func next() -> UInt64 { generator.next() }
    /// Uniform in [-scale, scale).
    public mutating func uniform(_ scale: Float) -> Float { (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    public mutating func values(_ count: Int, scale: Float, offset: Float = 0) -> [Float] {
        (0..<count).map { _ in offset + uniform(scale) }
    }
}

/// Builds tiny llama models with random weights as GGUF files.
public enum TinyModelFactory {
    public enum TokenizerKind: Sendable { case bpe, sentencePiece }

    public static let embedding = 64
    public static let heads = 4
    public static let kvHeads = 2
    public static let feedForward = 128
    public static let layers = 2

    /// Byte-level BPE vocabulary: 3 control tokens, the 256 byte characters, then merged tokens.
    public static let bpeMerges = [
        "Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "Ġ s", "r e", "Ġ w", "l l", "Ġ 1", "o r", "Ġw or", "l d",
    ]
    public static var bpeTokens: [String] {
        var tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        for b in 0..<256 { tokens.append(String(Character(Unicode.Scalar(ByteLevelBPE.byteToScalar[b])!))) }
        for merge in bpeMerges {
            let parts = merge.split(separator: " ")
            let merged = String(parts[0] + parts[1])
            if !tokens.contains(merged) { tokens.append(merged) }
        }
        return tokens
    }

    public static let sentencePiecePieces: [(String, Float)] = [
        ("▁", -1), ("▁t", -2), ("he", -3), ("▁the", -1.5), ("▁a", -2.5), ("in", -3), ("er", -3.2), ("▁w", -2.8),
        ("or", -3.3), ("ld", -3.4), ("▁wor", -2.9), ("▁world", -1.2), ("l", -5), ("d", -5), ("o", -5), ("r", -5),
        ("w", -5), ("h", -5), ("e", -5), ("t", -5), ("a", -5), ("i", -5), ("n", -5), ("s", -5),
    ]

    public static func addTokenizer(_ kind: TokenizerKind, to writer: inout GGUFTestWriter) -> Int {
        switch kind {
        case .bpe:
            let tokens = bpeTokens
            writer.add("tokenizer.ggml.model", .string("gpt2"))
            writer.add("tokenizer.ggml.pre", .string("smollm"))
            writer.add("tokenizer.ggml.tokens", .array(8, tokens.map { .string($0) }))
            writer.add("tokenizer.ggml.token_type", .array(5, tokens.indices.map { .i32($0 < 3 ? 3 : 1) }))
            writer.add("tokenizer.ggml.merges", .array(8, bpeMerges.map { .string($0) }))
            writer.add("tokenizer.ggml.bos_token_id", .u32(1))
            writer.add("tokenizer.ggml.eos_token_id", .u32(2))
            writer.add("tokenizer.ggml.add_bos_token", .bool(false))
            writer.add(
                "tokenizer.chat_template",
                .string("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}{% endfor %}"))
            return tokens.count
        case .sentencePiece:
            var tokens = ["<unk>", "<s>", "</s>"]
            var types: [Int32] = [2, 3, 3]
            var scores: [Float] = [0, 0, 0]
            for b in 0..<256 {
                let hex = String(b, radix: 16, uppercase: true)
                tokens.append("<0x\(hex.count == 1 ? "0" + hex : hex)>")
                types.append(6)
                scores.append(0)
            }
            for (piece, score) in sentencePiecePieces {
                tokens.append(piece)
                types.append(1)
                scores.append(score)
            }
            writer.add("tokenizer.ggml.model", .string("llama"))
            writer.add("tokenizer.ggml.tokens", .array(8, tokens.map { .string($0) }))
            writer.add("tokenizer.ggml.token_type", .array(5, types.map { .i32($0) }))
            writer.add("tokenizer.ggml.scores", .array(6, scores.map { .f32($0) }))
            writer.add("tokenizer.ggml.bos_token_id", .u32(1))
            writer.add("tokenizer.ggml.eos_token_id", .u32(2))
            writer.add("tokenizer.ggml.unknown_token_id", .u32(0))
            writer.add("tokenizer.chat_template", .string("{{ bos_token }}[INST] {{ message['content'] }} [/INST]"))
            return tokens.count
        }
    }

    /// A tiny llama model whose matrices are all of `type` (norms are F32).
    public static func writer(
        type: GGMLType, tokenizer: TokenizerKind = .bpe, tiedOutput: Bool = true, seed: UInt64 = 7
    )
        -> GGUFTestWriter
    {
        var w = GGUFTestWriter()
        var random = TestRandom(state: seed)
        w.add("general.architecture", .string("llama"))
        w.add("general.name", .string("tiny-\(type.name)"))
        w.add("general.alignment", .u32(32))
        w.add("llama.block_count", .u32(UInt32(layers)))
        w.add("llama.context_length", .u32(64))
        w.add("llama.embedding_length", .u32(UInt32(embedding)))
        w.add("llama.feed_forward_length", .u32(UInt32(feedForward)))
        w.add("llama.attention.head_count", .u32(UInt32(heads)))
        w.add("llama.attention.head_count_kv", .u32(UInt32(kvHeads)))
        w.add("llama.rope.freq_base", .f32(10000))
        w.add("llama.attention.layer_norm_rms_epsilon", .f32(1e-5))
        let vocabulary = addTokenizer(tokenizer, to: &w)
        let e = embedding
        let hd = e / heads
        w.addTensor(
            "token_embd.weight", dimensions: [e, vocabulary], type: type,
            values: random.values(e * vocabulary, scale: 1))
        w.addTensor("output_norm.weight", dimensions: [e], type: .f32, values: random.values(e, scale: 0.2, offset: 1))
        if !tiedOutput {
            w.addTensor(
                "output.weight", dimensions: [e, vocabulary], type: type,
                values: random.values(e * vocabulary, scale: 0.3))
        }
        for l in 0..<layers {
            let p = "blk.\(l)."
            w.addTensor(
                p + "attn_norm.weight", dimensions: [e], type: .f32, values: random.values(e, scale: 0.2, offset: 1))
            w.addTensor(p + "attn_q.weight", dimensions: [e, e], type: type, values: random.values(e * e, scale: 0.25))
            w.addTensor(
                p + "attn_k.weight", dimensions: [e, kvHeads * hd], type: type,
                values: random.values(e * kvHeads * hd, scale: 0.25))
            w.addTensor(
                p + "attn_v.weight", dimensions: [e, kvHeads * hd], type: type,
                values: random.values(e * kvHeads * hd, scale: 0.25))
            w.addTensor(
                p + "attn_output.weight", dimensions: [e, e], type: type, values: random.values(e * e, scale: 0.2))
            w.addTensor(
                p + "ffn_norm.weight", dimensions: [e], type: .f32, values: random.values(e, scale: 0.2, offset: 1))
            let f = feedForward
            w.addTensor(
                p + "ffn_gate.weight", dimensions: [e, f], type: type, values: random.values(e * f, scale: 0.25))
            w.addTensor(p + "ffn_up.weight", dimensions: [e, f], type: type, values: random.values(e * f, scale: 0.25))
            w.addTensor(
                p + "ffn_down.weight", dimensions: [f, e], type: type, values: random.values(e * f, scale: 0.2))
        }
        return w
    }

    public static func path(type: GGMLType, tokenizer: TokenizerKind = .bpe, tiedOutput: Bool = true) throws -> String {
        try writer(type: type, tokenizer: tokenizer, tiedOutput: tiedOutput).write(name: "tiny-\(type.name)")
    }
}
