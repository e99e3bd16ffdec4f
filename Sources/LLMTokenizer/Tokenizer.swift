/// A tokenizer built from GGUF metadata: `gpt2` byte-level BPE or `llama` SentencePiece with byte fallback.
/// Control and user-defined tokens (`<|im_start|>`, …) are recognised in text.
public final class Tokenizer: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Byte-level BPE with the named pre-tokenizer.
        case bytePairEncoding(preTokenizer: String)
        case sentencePiece
    }

    public let kind: Kind
    /// Token strings as stored in the file.
    public let tokens: [String]
    public let tokenTypes: [TokenType]
    public let bosTokenID: Int32?
    public let eosTokenID: Int32?
    public let unknownTokenID: Int32?
    public let addBOS: Bool
    public let addEOS: Bool
    /// Ids that end generation: `eos`, `eot`, and well-known end-of-turn control tokens.
    public let endOfGenerationIDs: Set<Int32>
    /// Set when the metadata named something this tokenizer only approximates (e.g. an unknown pre-tokenizer).
    public let warning: String?

    let tokenIDs: [String: Int32]
    /// Control/user-defined tokens matched in text, longest first.
    let specialTokens: [(text: String, id: Int32)]
    let bpe: ByteLevelBPE?
    let sentencePiece: SentencePieceEncoder?

    public var vocabularySize: Int { tokens.count }

    /// What a vocabulary file says, in the shape both readers (GGUF metadata, `tokenizer.json`) produce.
    struct Parts {
        var kind: Kind
        var tokens: [String]
        var tokenTypes: [TokenType]
        var bosTokenID: Int32?
        var eosTokenID: Int32?
        var unknownTokenID: Int32?
        var endOfTurnTokenID: Int32?
        var addBOS: Bool
        var addEOS: Bool
        /// Byte-pair merges in rank order (byte-level BPE).
        var merges: [(String, String)] = []
        /// Piece scores (SentencePiece).
        var scores: [Float] = []
        var addSpacePrefix = true
        var warning: String?
    }

    init(_ parts: Parts) {
        kind = parts.kind
        tokens = parts.tokens
        tokenTypes = parts.tokenTypes
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        tokenIDs = ids
        bosTokenID = parts.bosTokenID
        eosTokenID = parts.eosTokenID
        unknownTokenID = parts.unknownTokenID
        addBOS = parts.addBOS
        addEOS = parts.addEOS
        warning = parts.warning
        var special: [(String, Int32)] = []
        for (i, t) in tokens.enumerated() where tokenTypes[i] == .control || tokenTypes[i] == .userDefined {
            if !t.isEmpty { special.append((t, Int32(i))) }
        }
        special.sort { $0.0.utf8.count > $1.0.utf8.count }
        specialTokens = special
        var stops = Set<Int32>()
        if let eos = eosTokenID { stops.insert(eos) }
        if let eot = parts.endOfTurnTokenID { stops.insert(eot) }
        for name in ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<end_of_turn>", "</s>"] {
            if let i = ids[name], tokenTypes[Int(i)] == .control { stops.insert(i) }
        }
        endOfGenerationIDs = stops
        switch parts.kind {
        case .bytePairEncoding(let pre):
            bpe = ByteLevelBPE(
                merges: parts.merges, tokenIDs: ids, preTokenizer: PreTokenizer(name: pre),
                unknownID: unknownTokenID)
            sentencePiece = nil
        case .sentencePiece:
            sentencePiece = SentencePieceEncoder(
                tokenIDs: ids, scores: parts.scores, unknownID: unknownTokenID, addSpacePrefix: parts.addSpacePrefix)
            bpe = nil
        }
    }

    /// A tokenizer from GGUF metadata (`tokenizer.ggml.*`).
    public convenience init(metadata: [String: GGUFValue]) throws {
        guard let modelValue = metadata["tokenizer.ggml.model"] else {
            throw GGUFError.missingKey("tokenizer.ggml.model")
        }
        guard let model = modelValue.stringValue else {
            throw GGUFError.wrongValueType(key: "tokenizer.ggml.model", expected: "a string")
        }
        guard let tokenValues = metadata["tokenizer.ggml.tokens"]?.arrayValue else {
            throw GGUFError.missingKey("tokenizer.ggml.tokens")
        }
        let tokens = tokenValues.map { $0.stringValue ?? "" }
        let tokenTypes: [TokenType]
        if let types = metadata["tokenizer.ggml.token_type"]?.arrayValue {
            tokenTypes = types.map { TokenType(rawValue: Int32($0.intValue ?? 1)) ?? .normal }
        } else {
            tokenTypes = Array(repeating: .normal, count: tokens.count)
        }
        func id(_ key: String) -> Int32? {
            guard let v = metadata[key]?.intValue, v >= 0, v < tokenValues.count else { return nil }
            return Int32(v)
        }
        var parts = Parts(
            kind: .sentencePiece, tokens: tokens, tokenTypes: tokenTypes, bosTokenID: id("tokenizer.ggml.bos_token_id"),
            eosTokenID: id("tokenizer.ggml.eos_token_id"), unknownTokenID: id("tokenizer.ggml.unknown_token_id"),
            endOfTurnTokenID: id("tokenizer.ggml.eot_token_id"), addBOS: false,
            addEOS: metadata["tokenizer.ggml.add_eos_token"]?.boolValue ?? false)
        switch model {
        case "gpt2":
            let pre = metadata["tokenizer.ggml.pre"]?.stringValue ?? "default"
            parts.kind = .bytePairEncoding(preTokenizer: pre)
            guard let merges = metadata["tokenizer.ggml.merges"]?.arrayValue else {
                throw GGUFError.missingKey("tokenizer.ggml.merges")
            }
            parts.merges = merges.compactMap { value in
                let merge = value.stringValue ?? ""
                guard let space = merge.firstIndex(of: " ") else { return nil }
                return (String(merge[..<space]), String(merge[merge.index(after: space)...]))
            }
            parts.addBOS = metadata["tokenizer.ggml.add_bos_token"]?.boolValue ?? false
            parts.warning =
                PreTokenizer.isKnown(pre) ? nil : "unknown pre-tokenizer '\(pre)': using the GPT-2 default"
        case "llama":
            parts.kind = .sentencePiece
            let scores = metadata["tokenizer.ggml.scores"]?.arrayValue?.map { Float($0.doubleValue ?? 0) }
            parts.scores = scores ?? Array(repeating: 0, count: tokens.count)
            parts.addSpacePrefix = metadata["tokenizer.ggml.add_space_prefix"]?.boolValue ?? true
            parts.addBOS = metadata["tokenizer.ggml.add_bos_token"]?.boolValue ?? true
        default:
            throw GGUFError.invalidFile("unsupported tokenizer model '\(model)' (supported: gpt2, llama)")
        }
        self.init(parts)
    }

    /// Encodes text. Control tokens written in the text (`<|im_start|>`) become their ids when `parseSpecial` is
    /// true. `addSpecial` adds BOS/EOS as the file's `add_bos_token`/`add_eos_token` ask.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool = true) -> [Int32] {
        var output: [Int32] = []
        if addSpecial, addBOS, let bos = bosTokenID { output.append(bos) }
        var previousWasSpecial = true
        for fragment in fragments(of: text, parseSpecial: parseSpecial) {
            switch fragment {
            case .special(let id):
                output.append(id)
                previousWasSpecial = true
            case .text(let s):
                if let bpe {
                    bpe.encode(s, into: &output)
                } else if let sentencePiece {
                    sentencePiece.encode(s, addPrefix: previousWasSpecial, into: &output)
                }
                previousWasSpecial = false
            }
        }
        if addSpecial, addEOS, let eos = eosTokenID { output.append(eos) }
        return output
    }

    /// The bytes a token stands for (byte tokens decode to their byte; SentencePiece `▁` to a space; control
    /// tokens to their text).
    public func bytes(of token: Int32) -> [UInt8] {
        guard token >= 0, Int(token) < tokens.count else { return [] }
        let text = tokens[Int(token)]
        let type = tokenTypes[Int(token)]
        if type == .control || type == .userDefined { return Array(text.utf8) }
        if let bpe { return bpe.bytes(of: text) }
        return SentencePieceEncoder.bytes(of: text, type: type)
    }

    /// Decodes tokens to text (invalid UTF-8 is replaced). For SentencePiece models the space added in front of the
    /// text at encoding time is removed when `tokens` starts the text.
    public func decode(_ ids: [Int32], skipSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if skipSpecial, id >= 0, Int(id) < tokenTypes.count, tokenTypes[Int(id)] == .control { continue }
            bytes += self.bytes(of: id)
        }
        if let sentencePiece, sentencePiece.addSpacePrefix, bytes.first == 0x20,
            let first = ids.first(where: { !isSpecial($0) }), first == ids.first
        {
            bytes.removeFirst()
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The id of a token string, if the vocabulary has it.
    public func id(of token: String) -> Int32? { tokenIDs[token] }

    public func isSpecial(_ id: Int32) -> Bool {
        guard id >= 0, Int(id) < tokenTypes.count else { return false }
        return tokenTypes[Int(id)] == .control || tokenTypes[Int(id)] == .userDefined
    }

    enum Fragment: Equatable {
        case text(String)
        case special(Int32)
    }

    func fragments(of text: String, parseSpecial: Bool) -> [Fragment] {
        guard parseSpecial, !specialTokens.isEmpty else { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var result: [Fragment] = []
        var start = 0
        var i = 0
        let firstBytes = Set(specialTokens.map { $0.text.utf8.first! })
        while i < bytes.count {
            if firstBytes.contains(bytes[i]),
                let match = specialTokens.first(where: {
                    bytes.count - i >= $0.text.utf8.count && matches($0.text, bytes, at: i)
                })
            {
                if i > start { result.append(.text(String(decoding: bytes[start..<i], as: UTF8.self))) }
                result.append(.special(match.id))
                i += match.text.utf8.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { result.append(.text(String(decoding: bytes[start...], as: UTF8.self))) }
        return result
    }

    private func matches(_ token: String, _ bytes: [UInt8], at offset: Int) -> Bool {
        var j = offset
        for b in token.utf8 {
            if bytes[j] != b { return false }
            j += 1
        }
        return true
    }
}
