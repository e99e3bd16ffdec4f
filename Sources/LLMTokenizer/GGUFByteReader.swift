/// Bounds-checked little-endian reader over the mapped bytes.
package struct GGUFByteReader {
    package let base: UnsafeRawPointer
    package let count: Int
    package var position = 0
    /// GGUF v1 stores counts and string lengths as u32; v2 and v3 as u64.
    package var countsAreWide = true

    package init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    package mutating func need(_ n: Int) throws {
        if n < 0 || position + n > count { throw GGUFError.truncated(offset: position, needed: n, fileSize: count) }
    }

    package mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return v
    }

    package mutating func readCount() throws -> Int {
        let raw = countsAreWide ? try read(UInt64.self) : UInt64(try read(UInt32.self))
        guard raw <= UInt64(count) else { throw GGUFError.invalidFile("count \(raw) exceeds the file size") }
        return Int(raw)
    }

    package mutating func readString() throws -> String {
        let length = try readCount()
        try need(length)
        let bytes = UnsafeRawBufferPointer(start: base + position, count: length)
        position += length
        return String(decoding: bytes, as: UTF8.self)
    }

    package mutating func readValue(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self))
        case 1: return .int8(try read(Int8.self))
        case 2: return .uint16(try read(UInt16.self))
        case 3: return .int16(try read(Int16.self))
        case 4: return .uint32(try read(UInt32.self))
        case 5: return .int32(try read(Int32.self))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self)))
        case 7:
            let b = try read(UInt8.self)
            guard b <= 1 else { throw GGUFError.invalidFile("bool value \(b) for key '\(key)'") }
            return .bool(b == 1)
        case 8: return .string(try readString())
        case 9:
            guard depth < 8 else { throw GGUFError.invalidFile("arrays nested too deeply for key '\(key)'") }
            let elementType = try read(UInt32.self)
            let n = try readCount()
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0..<n { values.append(try readValue(type: elementType, key: key, depth: depth + 1)) }
            return .array(values)
        case 10: return .uint64(try read(UInt64.self))
        case 11: return .int64(try read(Int64.self))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self)))
        default: throw GGUFError.unsupportedValueType(type, key: key)
        }
    }
}
