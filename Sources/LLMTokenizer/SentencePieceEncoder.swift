/// SentencePiece (llama) encoding: spaces become `▁`, adjacent pieces merge greedily by the score of the merged
/// token, and characters missing from the vocabulary fall back to `<0xNN>` byte tokens.
final class SentencePieceEncoder: Sendable {
    let tokenIDs: [String: Int32]
    let scores: [Float]
    let unknownID: Int32?
    let addSpacePrefix: Bool
    let byteTokenIDs: [Int32]

    init(tokenIDs: [String: Int32], scores: [Float], unknownID: Int32?, addSpacePrefix: Bool) {
        self.tokenIDs = tokenIDs
        self.scores = scores
        self.unknownID = unknownID
        self.addSpacePrefix = addSpacePrefix
        byteTokenIDs = (0..<256).map { b in
            let hex = String(b, radix: 16, uppercase: true)
            return tokenIDs["<0x\(hex.count == 1 ? "0" + hex : hex)>"] ?? -1
        }
    }

    func encode(_ text: String, addPrefix: Bool, into output: inout [Int32]) {
        if text.isEmpty { return }
        var normalized = text.replacingOccurrences(of: " ", with: "\u{2581}")
        if addSpacePrefix && addPrefix { normalized = "\u{2581}" + normalized }
        var symbols = normalized.map { String($0) }
        while symbols.count > 1 {
            var bestScore = -Float.infinity
            var bestIndex = -1
            for i in 0..<(symbols.count - 1) {
                if let id = tokenIDs[symbols[i] + symbols[i + 1]] {
                    let score = Int(id) < scores.count ? scores[Int(id)] : 0
                    if score > bestScore {
                        bestScore = score
                        bestIndex = i
                    }
                }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] += symbols[bestIndex + 1]
            symbols.remove(at: bestIndex + 1)
        }
        for symbol in symbols {
            if let id = tokenIDs[symbol] {
                output.append(id)
                continue
            }
            for b in symbol.utf8 {
                let id = byteTokenIDs[Int(b)]
                if id >= 0 {
                    output.append(id)
                } else if let unknownID {
                    output.append(unknownID)
                }
            }
        }
    }

    static func bytes(of token: String, type: TokenType) -> [UInt8] {
        if type == .byte || (token.hasPrefix("<0x") && token.hasSuffix(">") && token.utf8.count == 6) {
            if let b = UInt8(token.dropFirst(3).dropLast(), radix: 16) { return [b] }
        }
        return Array(token.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
    }
}
