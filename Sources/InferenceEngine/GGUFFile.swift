/// A tensor described in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions, innermost first (`dimensions[0]` is the row length).
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset of the data relative to the start of the tensor data section.
    public let offset: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
    public var byteCount: Int { type.byteCount(elements: elementCount) }
}

/// A memory-mapped GGUF file (versions 1, 2 and 3; little-endian): metadata, tensor infos, and zero-copy access to tensor data.
public final class GGUFFile: Sendable {
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [String: GGUFTensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    public let alignment: Int
    /// Absolute file offset of the tensor data section.
    public let dataOffset: Int
    public let file: MappedFile

    public static let magic: UInt32 = 0x4655_4747  // "GGUF" read as a little-endian u32

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        var reader = GGUFByteReader(base: file.base, count: file.count)
        let magic = try reader.read(UInt32.self)
        guard magic == Self.magic else { throw GGUFError.badMagic(found: magic) }
        version = try reader.read(UInt32.self)
        guard (1...3).contains(version) else { throw GGUFError.unsupportedVersion(version) }
        reader.countsAreWide = version >= 2
        let tensorCount = try reader.readCount()
        let kvCount = try reader.readCount()
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<kvCount {
            let key = try reader.readString()
            let type = try reader.read(UInt32.self)
            metadata[key] = try reader.readValue(type: type, key: key, depth: 0)
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys
        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard let a = value.intValue, a > 0, a & (a - 1) == 0 else {
                throw GGUFError.invalidFile("general.alignment must be a power of two")
            }
            alignment = a
        }
        self.alignment = alignment
        var infos: [String: GGUFTensorInfo] = [:]
        var names: [String] = []
        for _ in 0..<tensorCount {
            let name = try reader.readString()
            let dimCount = try reader.read(UInt32.self)
            guard dimCount >= 1, dimCount <= 4 else {
                throw GGUFError.invalidTensor(name: name, reason: "\(dimCount) dimensions")
            }
            var dims: [Int] = []
            for _ in 0..<dimCount {
                let d = try reader.read(UInt64.self)
                guard d <= UInt64(Int32.max) else {
                    throw GGUFError.invalidTensor(name: name, reason: "dimension \(d)")
                }
                dims.append(Int(d))
            }
            let typeID = try reader.read(UInt32.self)
            guard let type = GGMLType(rawValue: typeID) else {
                throw GGUFError.unsupportedTensorType(tensor: name, type: GGMLType.name(of: typeID))
            }
            let offset = try reader.read(UInt64.self)
            guard offset <= UInt64(Int.max / 2) else { throw GGUFError.invalidTensor(name: name, reason: "offset") }
            guard dims[0] % type.blockSize == 0 else {
                throw GGUFError.invalidTensor(
                    name: name, reason: "row length \(dims[0]) is not a multiple of \(type.blockSize)")
            }
            infos[name] = GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: Int(offset))
            names.append(name)
        }
        tensors = infos
        tensorNames = names
        let position = reader.position
        dataOffset = (position + alignment - 1) / alignment * alignment
        for name in names {
            let info = infos[name]!
            let start = dataOffset + info.offset
            if start + info.byteCount > file.count {
                throw GGUFError.truncated(offset: start, needed: info.byteCount, fileSize: file.count)
            }
        }
    }

    /// A pointer to the first byte of a tensor's data inside the mapping.
    public func data(of info: GGUFTensorInfo) -> UnsafeRawPointer {
        file.base + dataOffset + info.offset
    }

    public func tensor(_ name: String) throws -> GGUFTensorInfo {
        guard let info = tensors[name] else { throw GGUFError.missingTensor(name) }
        return info
    }

    // MARK: typed metadata access

    public func string(_ key: String) throws -> String {
        guard let value = metadata[key] else { throw GGUFError.missingKey(key) }
        guard let s = value.stringValue else { throw GGUFError.wrongValueType(key: key, expected: "a string") }
        return s
    }

    public func int(_ key: String) throws -> Int {
        guard let value = metadata[key] else { throw GGUFError.missingKey(key) }
        guard let i = value.intValue else { throw GGUFError.wrongValueType(key: key, expected: "an integer") }
        return i
    }

    public func float(_ key: String) throws -> Double {
        guard let value = metadata[key] else { throw GGUFError.missingKey(key) }
        guard let d = value.doubleValue else { throw GGUFError.wrongValueType(key: key, expected: "a number") }
        return d
    }
}

/// Bounds-checked little-endian reader over the mapped bytes.
struct GGUFByteReader {
    let base: UnsafeRawPointer
    let count: Int
    var position = 0
    /// GGUF v1 stores counts and string lengths as u32; v2 and v3 as u64.
    var countsAreWide = true

    mutating func need(_ n: Int) throws {
        if n < 0 || position + n > count { throw GGUFError.truncated(offset: position, needed: n, fileSize: count) }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try need(MemoryLayout<T>.size)
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return v
    }

    mutating func readCount() throws -> Int {
        let raw = countsAreWide ? try read(UInt64.self) : UInt64(try read(UInt32.self))
        guard raw <= UInt64(count) else { throw GGUFError.invalidFile("count \(raw) exceeds the file size") }
        return Int(raw)
    }

    mutating func readString() throws -> String {
        let length = try readCount()
        try need(length)
        let bytes = UnsafeRawBufferPointer(start: base + position, count: length)
        position += length
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func readValue(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
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
