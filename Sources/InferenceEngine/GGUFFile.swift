import LLMTokenizer

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

    public static let magic: UInt32 = GGUFMetadata.magic

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        var reader = GGUFByteReader(base: file.base, count: file.count)
        let header = try GGUFMetadata(reader: &reader)
        version = header.version
        let tensorCount = header.tensorCount
        let metadata = header.values
        self.metadata = metadata
        self.metadataKeys = header.keys
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
