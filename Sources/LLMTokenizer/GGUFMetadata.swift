/// The header and metadata of a GGUF file (versions 1, 2 and 3; little-endian), read without looking at its
/// tensors: what a tokenizer needs from a model file. The engine's `GGUFFile` reads the tensor infos after it.
public struct GGUFMetadata: Sendable {
    public let version: UInt32
    /// How many tensors the header announces (their infos follow the metadata; not read here).
    public let tensorCount: Int
    public let values: [String: GGUFValue]
    /// Metadata keys in file order.
    public let keys: [String]

    /// "GGUF" read as a little-endian u32.
    public static let magic: UInt32 = 0x4655_4747

    /// Maps the file and reads its header and metadata.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        var reader = GGUFByteReader(base: file.base, count: file.count)
        try self.init(reader: &reader)
    }

    /// Reads the header and metadata from the reader's start, leaving it at the first tensor info.
    package init(reader: inout GGUFByteReader) throws {
        let magic = try reader.read(UInt32.self)
        guard magic == Self.magic else { throw GGUFError.badMagic(found: magic) }
        version = try reader.read(UInt32.self)
        guard (1...3).contains(version) else { throw GGUFError.unsupportedVersion(version) }
        reader.countsAreWide = version >= 2
        tensorCount = try reader.readCount()
        let kvCount = try reader.readCount()
        var values: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<kvCount {
            let key = try reader.readString()
            let type = try reader.read(UInt32.self)
            values[key] = try reader.readValue(type: type, key: key, depth: 0)
            keys.append(key)
        }
        self.values = values
        self.keys = keys
    }
}
