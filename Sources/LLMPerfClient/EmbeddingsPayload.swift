import LLMPerfCore

/// What llmperf checks in an embeddings answer (OpenAI's API reference, "The embedding object"):
/// a JSON object whose `data` is a list of `{object, index, embedding}` items, `embedding` an array
/// of numbers or a base64 string of little-endian float32 values, and `usage.prompt_tokens`. Read by
/// one forward pass (`JSONCursor`); the vectors are checked, counted and skipped, never kept.
struct EmbeddingsPayload: Equatable {
    /// Items in `data`.
    var count = 0
    /// Values in each embedding (all must agree); nil when there were none.
    var width: Int?
    /// The embeddings came as base64 strings.
    var base64 = false
    var promptTokens: Int?
    /// `error`, as text, when the body is an error object.
    var error: String?

    struct Problem: Error, Equatable {
        var reason: String
    }

    /// For `outputText`: "4 embeddings × 384 (base64)".
    var description: String {
        "\(count) embedding\(count == 1 ? "" : "s") × \(width ?? 0)" + (base64 ? " (base64)" : "")
    }

    static func scan(_ bytes: UnsafeRawBufferPointer) -> Result<EmbeddingsPayload, Problem> {
        var c = JSONCursor(bytes)
        var out = EmbeddingsPayload()
        var sawData = false
        var indices: [Int] = []
        guard c.consume(0x7B) else { return .failure(Problem(reason: "the answer is not a JSON object")) }
        if !c.consume(0x7D) {
            repeat {
                guard let key = c.rawString(), c.consume(0x3A) else { return malformed }
                if c.keyEquals(key, "data") {
                    sawData = true
                    if let problem = data(&c, into: &out, indices: &indices) { return .failure(problem) }
                } else if c.keyEquals(key, "usage") {
                    if c.consumeNull() { continue }
                    guard usage(&c, into: &out) else { return malformed }
                } else if c.keyEquals(key, "error") {
                    if c.consumeNull() { continue }
                    let start = c.pos
                    guard c.skipValue() else { return malformed }
                    let raw = UnsafeRawBufferPointer(start: c.base + start, count: c.pos - start)
                    out.error = String(decoding: raw.prefix(1024), as: UTF8.self)
                } else {
                    guard c.skipValue() else { return malformed }
                }
            } while c.consume(0x2C)
            guard c.consume(0x7D) else { return malformed }
        }
        guard c.atEnd else { return malformed }
        if out.error != nil { return .success(out) }
        guard sawData else { return .failure(Problem(reason: "the answer has no data list of embeddings")) }
        // Every index from 0 to count − 1 once, in any order (items without an index are in order).
        let sorted = indices.sorted()
        guard indices.isEmpty || sorted == Array(0..<out.count) else {
            return .failure(Problem(reason: "the embeddings' indexes are not 0 to \(out.count - 1), each once"))
        }
        return .success(out)
    }

    private static var malformed: Result<EmbeddingsPayload, Problem> {
        .failure(Problem(reason: "malformed embeddings answer"))
    }

    /// `data: [{object, index, embedding}, …]`; nil when it is well formed.
    private static func data(_ c: inout JSONCursor, into out: inout EmbeddingsPayload, indices: inout [Int])
        -> Problem?
    {
        guard c.consume(0x5B) else { return Problem(reason: "data is not a list") }
        if c.consume(0x5D) { return nil }
        repeat {
            guard c.consume(0x7B) else { return Problem(reason: "data item \(out.count) is not an object") }
            var width: Int?
            var base64 = false
            if !c.consume(0x7D) {
                repeat {
                    guard let key = c.rawString(), c.consume(0x3A) else {
                        return Problem(reason: "malformed data item")
                    }
                    if c.keyEquals(key, "embedding") {
                        guard let read = embedding(&c) else {
                            return Problem(
                                reason: "data item \(out.count)'s embedding is neither numbers nor base64 float32s")
                        }
                        (width, base64) = read
                    } else if c.keyEquals(key, "index") {
                        guard let index = c.integer() else { return Problem(reason: "malformed data item index") }
                        indices.append(index)
                    } else {
                        guard c.skipValue() else { return Problem(reason: "malformed data item") }
                    }
                } while c.consume(0x2C)
                guard c.consume(0x7D) else { return Problem(reason: "malformed data item") }
            }
            guard let width, width > 0 else { return Problem(reason: "data item \(out.count) has no embedding") }
            if let known = out.width, known != width {
                return Problem(reason: "data item \(out.count) has \(width) values, the first had \(known)")
            }
            out.width = width
            out.base64 = out.base64 || base64
            out.count += 1
        } while c.consume(0x2C)
        return c.consume(0x5D) ? nil : Problem(reason: "malformed data list")
    }

    /// The width of one embedding: numbers in an array, or float32 values in a base64 string.
    private static func embedding(_ c: inout JSONCursor) -> (width: Int, base64: Bool)? {
        if c.peek() == 0x22 {
            guard let range = c.rawString(), !range.escaped else { return nil }
            let length = range.end - range.start
            guard length % 4 == 0 else { return nil }
            var padding = 0
            if length > 0 && c.base[range.end - 1] == 0x3D { padding += 1 }
            if length > 1 && c.base[range.end - 2] == 0x3D { padding += 1 }
            for i in range.start..<(range.end - padding) where !isBase64(c.base[i]) { return nil }
            let bytes = length / 4 * 3 - padding
            guard bytes % 4 == 0 else { return nil }
            return (bytes / 4, true)
        }
        guard c.consume(0x5B) else { return nil }
        if c.consume(0x5D) { return (0, false) }
        var n = 0
        repeat {
            guard let first = c.peek(), first == 0x2D || (first >= 0x30 && first <= 0x39), c.skipValue() else {
                return nil
            }
            n += 1
        } while c.consume(0x2C)
        return c.consume(0x5D) ? (n, false) : nil
    }

    @inline(__always) private static func isBase64(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2F
    }

    /// `usage: {prompt_tokens, total_tokens}`.
    private static func usage(_ c: inout JSONCursor, into out: inout EmbeddingsPayload) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            if c.keyEquals(key, "prompt_tokens") {
                if c.consumeNull() { continue }
                guard let v = c.integer(), v >= 0 else { return false }
                out.promptTokens = v
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }
}
