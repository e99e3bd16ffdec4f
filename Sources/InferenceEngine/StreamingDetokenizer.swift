import LLMTokenizer

/// Turns generated tokens into text pieces as they arrive, never splitting a UTF-8 character: bytes of an
/// incomplete character are held back until the token that completes it.
public struct StreamingDetokenizer {
    public let tokenizer: Tokenizer
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Adds a token and returns the text that became complete (possibly empty).
    public mutating func append(_ token: Int32) -> String {
        pending += tokenizer.bytes(of: token)
        let complete = Self.completePrefixLength(pending)
        if complete == 0 { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Returns whatever is held back (an incomplete character decodes to U+FFFD).
    public mutating func flush() -> String {
        defer { pending = [] }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a UTF-8 sequence which could still be completed.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        var continuation = 0
        while i >= 0 && continuation < 3 && bytes[i] & 0xC0 == 0x80 {
            continuation += 1
            i -= 1
        }
        if i < 0 { return n }
        let lead = bytes[i]
        let expected: Int
        if lead & 0x80 == 0 {
            expected = 1
        } else if lead & 0xE0 == 0xC0 {
            expected = 2
        } else if lead & 0xF0 == 0xE0 {
            expected = 3
        } else if lead & 0xF8 == 0xF0 {
            expected = 4
        } else {
            return n
        }
        return continuation + 1 < expected ? i : n
    }
}
