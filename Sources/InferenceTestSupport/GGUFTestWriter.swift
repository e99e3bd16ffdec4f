import Foundation

@testable import InferenceEngine

// Test support shared by the engine's and the server's tests. It reaches the engine's
// internal block encoders, so it builds in debug (testing-enabled) builds only.

/// Writes GGUF files for tests: typed metadata (nested arrays included) and tensors given as raw bytes.
public struct GGUFTestWriter {
    public enum Value {
        case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), f32(Float), bool(Bool)
        case string(String), u64(UInt64), i64(Int64), f64(Double)
        /// Element type id and elements (all of that type).
        case array(UInt32, [Value])

        public var typeID: UInt32 {
            switch self {
            case .u8: return 0
            case .i8: return 1
            case .u16: return 2
            case .i16: return 3
            case .u32: return 4
            case .i32: return 5
            case .f32: return 6
            case .bool: return 7
            case .string: return 8
            case .array: return 9
            case .u64: return 10
            case .i64: return 11
            case .f64: return 12
            }
        }
    }

    public struct Tensor {
        public var name: String
        public var dimensions: [Int]
        public var typeID: UInt32
        public var bytes: [UInt8]

        public init(name: String, dimensions: [Int], typeID: UInt32, bytes: [UInt8]) {
            self.name = name
            self.dimensions = dimensions
            self.typeID = typeID
            self.bytes = bytes
        }
    }

    public var version: UInt32 = 3
    public var magic: UInt32 = 0x4655_4747
    public var metadata: [(String, Value)] = []
    public var tensors: [Tensor] = []
    public var alignment = 32

    public init() {}

    public mutating func add(_ key: String, _ value: Value) { metadata.append((key, value)) }

    public mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, values: [Float]) {
        tensors.append(
            Tensor(
                name: name, dimensions: dimensions, typeID: type.rawValue,
                bytes: QuantizedBlocks.encode(values, as: type)))
    }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) {
            put(UInt64(s.utf8.count))
            out.append(contentsOf: Array(s.utf8))
        }
        func putValue(_ v: Value) {
            switch v {
            case .u8(let x): put(x)
            case .i8(let x): put(x)
            case .u16(let x): put(x)
            case .i16(let x): put(x)
            case .u32(let x): put(x)
            case .i32(let x): put(x)
            case .f32(let x): put(x.bitPattern)
            case .bool(let x): put(UInt8(x ? 1 : 0))
            case .string(let s): putString(s)
            case .u64(let x): put(x)
            case .i64(let x): put(x)
            case .f64(let x): put(x.bitPattern)
            case .array(let type, let items):
                put(type)
                put(UInt64(items.count))
                for item in items { putValue(item) }
            }
        }
        put(magic)
        put(version)
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            putString(key)
            put(value.typeID)
            putValue(value)
        }
        var offsets: [Int] = []
        var offset = 0
        for t in tensors {
            offsets.append(offset)
            offset += (t.bytes.count + alignment - 1) / alignment * alignment
        }
        for (t, o) in zip(tensors, offsets) {
            putString(t.name)
            put(UInt32(t.dimensions.count))
            for d in t.dimensions { put(UInt64(d)) }
            put(t.typeID)
            put(UInt64(o))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out.append(contentsOf: t.bytes)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the file to a fresh temporary path and returns it.
    public func write(name: String = "test") throws -> String {
        try Self.write(bytes(), name: name)
    }

    public static func write(_ bytes: [UInt8], name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-engine-tests")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("\(name)-\(UUID().uuidString).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
