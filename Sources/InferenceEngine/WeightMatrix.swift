import LLMTokenizer

/// A 2-D weight tensor in its stored (possibly quantized) format: `rows` output features, each a row of `columns`
/// input features. The bytes stay where they are (usually inside the memory-mapped model file).
public struct WeightMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    /// Bytes of one row.
    public let rowBytes: Int
    /// First byte of row 0.
    public let data: UnsafeRawPointer
    /// Keeps the memory behind `data` alive (the mapped file, or converted storage).
    let owner: AnyObject
    /// The same weights re-laid out for the fast kernels (Q4_0, Q4_1, Q8_0), when the model packed them.
    var packed: PackedMatrix?

    /// Packs the weights for the fast kernels when the type allows; `data` stays valid for row lookups.
    public mutating func pack() {
        if packed == nil && PackedMatrix.supports(type) { packed = PackedMatrix(self) }
    }

    public init(name: String, type: GGMLType, rows: Int, columns: Int, data: UnsafeRawPointer, owner: AnyObject) {
        self.name = name
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = type.byteCount(elements: columns)
        self.data = data
        self.owner = owner
    }

    /// Reads a 2-D tensor from a GGUF file without copying it.
    static func load(_ file: GGUFFile, _ name: String) throws -> WeightMatrix {
        let info = try file.tensor(name)
        guard info.dimensions.count == 2 || (info.dimensions.count > 2 && info.dimensions[2...].allSatisfy { $0 == 1 })
        else {
            throw GGUFError.invalidTensor(name: name, reason: "expected a matrix, found shape \(info.dimensions)")
        }
        guard info.dimensions[0] % 32 == 0 else {
            throw GGUFError.invalidTensor(
                name: name, reason: "row length \(info.dimensions[0]) is not a multiple of 32")
        }
        return WeightMatrix(
            name: name, type: info.type, rows: info.dimensions[1], columns: info.dimensions[0],
            data: file.data(of: info),
            owner: file)
    }

    /// The stored bytes were discarded after packing (converted weights keep one copy, the packed one).
    public var bytesDiscarded: Bool { (owner as? WeightStorage)?.isDiscarded ?? false }

    /// Decodes one row into `destination` (`columns` floats).
    public func decodeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        if let packed, bytesDiscarded {
            packed.decodeRow(row, into: destination)
            return
        }
        QuantizedBlocks.decode(type, from: data + row * rowBytes, count: columns, into: destination)
    }
}
