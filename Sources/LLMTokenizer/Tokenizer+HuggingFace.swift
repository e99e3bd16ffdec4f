import Foundation

extension Tokenizer {
    /// A tokenizer from a Hugging Face `tokenizer.json`: byte-level BPE (`model.type: BPE` with `vocab` and
    /// `merges`, each merge a string `"a b"` or a pair `["a", "b"]`) and its `added_tokens` (special ones become
    /// control tokens, the others user-defined; both are recognised in text). The pre-tokenizer is read from
    /// `pre_tokenizer`: `ByteLevel` is GPT-2's, a `Digits` split with `individual_digits` before it SmolLM's, a
    /// `Split` on `\p{N}{1,3}` Llama 3's; anything else falls back to GPT-2's with `warning` set. BOS is added when
    /// `post_processor` is a `TemplateProcessing` whose single-sequence template starts with a special token.
    public convenience init(huggingFaceJSONAt path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerFileError.unreadable(path: path, reason: error.localizedDescription)
        }
        try self.init(huggingFaceJSON: data, path: path)
    }

    /// The same from the file's bytes; `path` is only named in errors.
    public convenience init(huggingFaceJSON data: Data, path: String) throws {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TokenizerFileError.badJSON(path: path, reason: "the top level is not an object")
            }
            root = object
        } catch let error as TokenizerFileError {
            throw error
        } catch {
            throw TokenizerFileError.badJSON(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerFileError.missing(path: path, key: "model", expected: "an object with type BPE")
        }
        let type = model["type"] as? String ?? "BPE"
        guard type == "BPE" else {
            throw TokenizerFileError.unsupported(
                path: path, found: "model.type \(type)", expected: "BPE (byte-level byte-pair encoding)")
        }
        guard let vocab = model["vocab"] as? [String: Any], !vocab.isEmpty else {
            throw TokenizerFileError.missing(
                path: path, key: "model.vocab", expected: "an object of token strings to ids")
        }
        let preTokenizer = Self.preTokenizerName(root["pre_tokenizer"])
        guard preTokenizer.byteLevel || Self.isByteLevel(root["decoder"]) else {
            throw TokenizerFileError.unsupported(
                path: path, found: "a BPE without a ByteLevel pre-tokenizer or decoder",
                expected: "byte-level BPE (GPT-2, SmolLM, Llama 3 style)")
        }
        var entries: [(String, Int)] = []
        entries.reserveCapacity(vocab.count)
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0, id < 10_000_000 else {
                throw TokenizerFileError.missing(
                    path: path, key: "model.vocab[\(token.debugDescription)]", expected: "a token id ≥ 0")
            }
            entries.append((token, id))
        }
        var added: [(content: String, id: Int, special: Bool)] = []
        for (index, item) in ((root["added_tokens"] as? [Any]) ?? []).enumerated() {
            guard let object = item as? [String: Any], let content = object["content"] as? String,
                let id = (object["id"] as? NSNumber)?.intValue, id >= 0, id < 10_000_000
            else {
                throw TokenizerFileError.missing(
                    path: path, key: "added_tokens[\(index)]", expected: "an object with id and content")
            }
            added.append((content, id, (object["special"] as? Bool) ?? false))
        }
        let size = max(entries.map(\.1).max() ?? -1, added.map(\.id).max() ?? -1) + 1
        var tokens = [String](repeating: "", count: size)
        var types = [TokenType](repeating: .unused, count: size)
        for (token, id) in entries {
            tokens[id] = token
            types[id] = .normal
        }
        for token in added {
            tokens[token.id] = token.content
            types[token.id] = token.special ? .control : .userDefined
        }
        let mergeValues = model["merges"] as? [Any] ?? []
        guard model["merges"] == nil || model["merges"] is [Any] else {
            throw TokenizerFileError.missing(
                path: path, key: "model.merges", expected: "a list of \"a b\" strings or [\"a\", \"b\"] pairs")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeValues.count)
        for (index, value) in mergeValues.enumerated() {
            if let text = value as? String, let space = text.firstIndex(of: " ") {
                merges.append((String(text[..<space]), String(text[text.index(after: space)...])))
            } else if let pair = value as? [Any], pair.count == 2, let left = pair[0] as? String,
                let right = pair[1] as? String
            {
                merges.append((left, right))
            } else {
                throw TokenizerFileError.missing(
                    path: path, key: "model.merges[\(index)]", expected: "a string \"a b\" or a pair [\"a\", \"b\"]")
            }
        }
        func id(named names: [String]) -> Int32? {
            for name in names {
                if let token = added.first(where: { $0.content == name }) { return Int32(token.id) }
            }
            return nil
        }
        var bos = id(named: ["<|begin_of_text|>", "<s>", "<|startoftext|>"])
        var addBOS = false
        if let processor = root["post_processor"] as? [String: Any],
            processor["type"] as? String == "TemplateProcessing",
            let single = processor["single"] as? [Any], let first = single.first as? [String: Any],
            let special = first["SpecialToken"] as? [String: Any], let name = special["id"] as? String,
            let firstID = id(named: [name])
        {
            bos = firstID
            addBOS = true
        }
        let unknown = (model["unk_token"] as? String).flatMap { name in
            vocab[name].flatMap { ($0 as? NSNumber)?.int32Value }
        }
        self.init(
            Parts(
                kind: .bytePairEncoding(preTokenizer: preTokenizer.name), tokens: tokens, tokenTypes: types,
                bosTokenID: bos, eosTokenID: id(named: ["<|endoftext|>", "<|end_of_text|>", "</s>", "<|im_end|>"]),
                unknownTokenID: unknown, endOfTurnTokenID: id(named: ["<|eot_id|>", "<|im_end|>"]), addBOS: addBOS,
                addEOS: false, merges: merges,
                warning: preTokenizer.known
                    ? nil : "\(path): pre_tokenizer not recognised: using the GPT-2 default"))
    }

    /// The `PreTokenizer` name a `pre_tokenizer` object stands for, whether it is byte-level, and whether it was
    /// recognised.
    static func preTokenizerName(_ value: Any?) -> (name: String, byteLevel: Bool, known: Bool) {
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            return ("default", false, false)
        }
        switch type {
        case "ByteLevel":
            return ("default", true, (object["use_regex"] as? Bool) ?? true)
        case "Sequence":
            let steps = (object["pretokenizers"] as? [[String: Any]]) ?? []
            let byteLevel = steps.contains { $0["type"] as? String == "ByteLevel" }
            let digits = steps.contains {
                $0["type"] as? String == "Digits" && ($0["individual_digits"] as? Bool) == true
            }
            let llama3 = steps.contains { step in
                guard step["type"] as? String == "Split", let pattern = step["pattern"] as? [String: Any],
                    let regex = pattern["Regex"] as? String
                else { return false }
                return regex.contains("\\p{N}{1,3}")
            }
            if llama3 { return ("llama3", byteLevel, true) }
            if digits { return ("smollm", byteLevel, true) }
            let plain = steps.count == 1 && byteLevel && (steps[0]["use_regex"] as? Bool ?? true)
            return ("default", byteLevel, plain)
        default:
            return ("default", false, false)
        }
    }

    static func isByteLevel(_ value: Any?) -> Bool {
        guard let object = value as? [String: Any] else { return false }
        if object["type"] as? String == "ByteLevel" { return true }
        return ((object["decoders"] as? [[String: Any]]) ?? []).contains { $0["type"] as? String == "ByteLevel" }
    }

    /// A tokenizer from a vocabulary file: a `.gguf` model's metadata (not its tensors), or a Hugging Face
    /// `tokenizer.json` (any other name is tried as JSON).
    public static func load(path: String) throws -> Tokenizer {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TokenizerFileError.unreadable(path: path, reason: "no such file")
        }
        if path.lowercased().hasSuffix(".gguf") {
            do {
                return try Tokenizer(metadata: GGUFMetadata(path: path).values)
            } catch let error as GGUFError {
                throw TokenizerFileError.unreadable(path: path, reason: "\(error)")
            }
        }
        return try Tokenizer(huggingFaceJSONAt: path)
    }
}
