/// Packs chunk arrival times into a compact blob: each time as the unsigned LEB128 varint of
/// its difference from the previous one (the first from the request's start). A 100-token
/// stream with millisecond gaps takes about 300 bytes instead of 800.
enum ChunkTimeCodec {
    static func encode(_ times: [UInt64], from start: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(times.count * 3)
        var previous = start
        for time in times {
            var delta = time &- previous
            previous = time
            while delta >= 0x80 {
                out.append(UInt8(delta & 0x7F) | 0x80)
                delta >>= 7
            }
            out.append(UInt8(delta))
        }
        return out
    }

    static func decode(_ bytes: some Sequence<UInt8>, from start: UInt64, count: Int) throws(StoreError) -> [UInt64] {
        var times: [UInt64] = []
        times.reserveCapacity(count)
        var previous = start
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            guard shift < 64 else { throw .corrupt("chunk time varint longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                previous = previous &+ value
                times.append(previous)
                value = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        guard shift == 0, times.count == count else {
            throw .corrupt("chunk time blob holds \(times.count) values, expected \(count)")
        }
        return times
    }

    /// Token counts per chunk; nil when every chunk holds exactly one token (the common case).
    static func encodeTokens(_ tokens: [UInt32]) -> [UInt8]? {
        if tokens.allSatisfy({ $0 == 1 }) { return nil }
        var out: [UInt8] = []
        for token in tokens {
            var v = token
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        return out
    }

    static func decodeTokens(_ bytes: [UInt8]?, count: Int) throws(StoreError) -> [UInt32] {
        guard let bytes else { return Array(repeating: 1, count: count) }
        var tokens: [UInt32] = []
        tokens.reserveCapacity(count)
        var value: UInt32 = 0
        var shift: UInt32 = 0
        for byte in bytes {
            guard shift < 32 else { throw .corrupt("chunk token varint longer than 32 bits") }
            value |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                tokens.append(value)
                value = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        guard tokens.count == count else {
            throw .corrupt("chunk token blob holds \(tokens.count) values, expected \(count)")
        }
        return tokens
    }

    /// One byte per chunk, 1 where it carried reasoning only; nil when no chunk did.
    static func encodeReasoning(_ flags: [Bool]) -> [UInt8]? {
        guard flags.contains(true) else { return nil }
        return flags.map { $0 ? 1 : 0 }
    }

    static func decodeReasoning(_ bytes: [UInt8], count: Int) throws(StoreError) -> [Bool] {
        guard bytes.count == count else {
            throw .corrupt("chunk reasoning blob holds \(bytes.count) flags, expected \(count)")
        }
        guard bytes.allSatisfy({ $0 <= 1 }) else { throw .corrupt("chunk reasoning flag other than 0 or 1") }
        return bytes.map { $0 == 1 }
    }
}
