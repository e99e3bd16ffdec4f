/// GPT-2 style byte-level byte-pair encoding: every byte maps to a printable character, words from the
/// pre-tokenizer are merged pairwise by merge rank.
package final class ByteLevelBPE: Sendable {
    let preTokenizer: PreTokenizer
    /// Rank and result of merging the pair (left id << 32 | right id).
    let merges: [UInt64: (rank: Int32, merged: Int32)]
    /// Token id of each single byte's character.
    let byteIDs: [Int32]
    /// Byte of each mapped character (Unicode scalar value → byte).
    let scalarToByte: [UInt32: UInt8]
    let unknownID: Int32?

    /// The GPT-2 byte ↔ character table: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.
    package static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    init(merges pairs: [(String, String)], tokenIDs: [String: Int32], preTokenizer: PreTokenizer, unknownID: Int32?) {
        self.preTokenizer = preTokenizer
        self.unknownID = unknownID
        var byteIDs = [Int32](repeating: -1, count: 256)
        var scalarToByte: [UInt32: UInt8] = [:]
        for b in 0..<256 {
            let scalar = Self.byteToScalar[b]
            scalarToByte[scalar] = UInt8(b)
            byteIDs[b] = tokenIDs[String(Character(Unicode.Scalar(scalar)!))] ?? -1
        }
        self.byteIDs = byteIDs
        self.scalarToByte = scalarToByte
        var table: [UInt64: (Int32, Int32)] = [:]
        table.reserveCapacity(pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            guard let l = tokenIDs[left], let r = tokenIDs[right], let m = tokenIDs[left + right] else { continue }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if table[key] == nil { table[key] = (Int32(rank), m) }
        }
        merges = table
    }

    func encode(_ text: String, into output: inout [Int32]) {
        for word in preTokenizer.split(text) {
            var symbols: [Int32] = []
            for b in word.utf8 {
                let id = byteIDs[Int(b)]
                if id >= 0 {
                    symbols.append(id)
                } else if let unknownID {
                    symbols.append(unknownID)
                }
            }
            while symbols.count > 1 {
                var bestRank = Int32.max
                var bestIndex = -1
                var bestMerged: Int32 = 0
                for i in 0..<(symbols.count - 1) {
                    let key = UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[i + 1]))
                    if let m = merges[key], m.rank < bestRank {
                        bestRank = m.rank
                        bestIndex = i
                        bestMerged = m.merged
                    }
                }
                if bestIndex < 0 { break }
                symbols[bestIndex] = bestMerged
                symbols.remove(at: bestIndex + 1)
            }
            output += symbols
        }
    }

    /// Bytes of a token string: each character maps back to its byte; characters outside the table keep their
    /// UTF-8 bytes.
    func bytes(of token: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in token.unicodeScalars {
            if let b = scalarToByte[scalar.value] {
                out.append(b)
            } else {
                out += Array(String(scalar).utf8)
            }
        }
        return out
    }
}
