import Foundation
import InferenceTestSupport
import LLMTokenizer
import Testing

@testable import InferenceEngine

@Suite struct GGUFReaderTests {
    @Test func readsEveryMetadataValueType() throws {
        var w = GGUFTestWriter()
        w.alignment = 64
        w.add("general.alignment", .u32(64))
        w.add("k.u8", .u8(200))
        w.add("k.i8", .i8(-5))
        w.add("k.u16", .u16(60000))
        w.add("k.i16", .i16(-30000))
        w.add("k.u32", .u32(4_000_000_000))
        w.add("k.i32", .i32(-2_000_000_000))
        w.add("k.f32", .f32(1.5))
        w.add("k.bool", .bool(true))
        w.add("k.string", .string("héllo ✓"))
        w.add("k.u64", .u64(1 << 40))
        w.add("k.i64", .i64(-(1 << 40)))
        w.add("k.f64", .f64(-0.25))
        w.add("k.nested", .array(9, [.array(4, [.u32(1), .u32(2)]), .array(8, [.string("a")])]))
        w.addTensor("t.f32", dimensions: [32, 2], type: .f32, values: (0..<64).map(Float.init))
        let q8Values: [Float] = (0..<64).map { (i: Int) -> Float in i % 32 == 0 ? 127 : Float(i % 7) - 3 }
        w.addTensor("t.q8", dimensions: [64], type: .q8_0, values: q8Values)
        let file = try GGUFFile(path: try w.write())
        #expect(file.version == 3)
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.metadata["k.u8"] == .uint8(200))
        #expect(file.metadata["k.i8"] == .int8(-5))
        #expect(file.metadata["k.u16"] == .uint16(60000))
        #expect(file.metadata["k.i16"] == .int16(-30000))
        #expect(file.metadata["k.u32"] == .uint32(4_000_000_000))
        #expect(file.metadata["k.i32"] == .int32(-2_000_000_000))
        #expect(file.metadata["k.f32"] == .float32(1.5))
        #expect(file.metadata["k.bool"] == .bool(true))
        #expect(file.metadata["k.string"] == .string("héllo ✓"))
        #expect(file.metadata["k.u64"] == .uint64(1 << 40))
        #expect(file.metadata["k.i64"] == .int64(-(1 << 40)))
        #expect(file.metadata["k.f64"] == .float64(-0.25))
        #expect(
            file.metadata["k.nested"] == .array([.array([.uint32(1), .uint32(2)]), .array([.string("a")])]))
        #expect(file.metadataKeys.first == "general.alignment")
        #expect(file.tensorNames == ["t.f32", "t.q8"])
        let t = try file.tensor("t.f32")
        #expect(t.dimensions == [32, 2])
        #expect(t.type == .f32)
        #expect(t.offset == 0)
        #expect(QuantizedBlocks.decode(.f32, from: file.data(of: t), count: 64) == (0..<64).map(Float.init))
        let q = try file.tensor("t.q8")
        #expect(q.offset == 256)
        #expect(q.byteCount == 68)
        #expect(QuantizedBlocks.decode(.q8_0, from: file.data(of: q), count: 64) == q8Values)
    }

    @Test func defaultAlignmentIs32() throws {
        var w = GGUFTestWriter()
        w.add("a", .string("x"))
        w.addTensor("t", dimensions: [32], type: .f16, values: Array(repeating: 0.5, count: 32))
        let file = try GGUFFile(path: try w.write())
        #expect(file.alignment == 32)
        #expect(file.dataOffset % 32 == 0)
        #expect(file.dataOffset < file.file.count)
    }

    /// magic, version 3, 0 tensors, 1 key: "general.architecture" = "llama" (69 bytes).
    static func minimalFile(version: UInt32 = 3, magic: UInt32 = 0x4655_4747) -> [UInt8] {
        var w = GGUFTestWriter()
        w.version = version
        w.magic = magic
        w.add("general.architecture", .string("llama"))
        return Array(w.bytes().prefix(69))
    }

    static func error(_ bytes: [UInt8]) throws -> String {
        let path = try GGUFTestWriter.write(bytes, name: "bad")
        do {
            _ = try GGUFFile(path: path)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func truncatedFile() throws {
        #expect(GGUFReaderTests.minimalFile().count == 69)
        let message = try Self.error(Array(Self.minimalFile().prefix(60)))
        #expect(message == "GGUF file is truncated: needed 8 bytes at offset 56 but the file has 60 bytes")
        #expect(
            try Self.error(Array(Self.minimalFile().prefix(6)))
                == "GGUF file is truncated: needed 4 bytes at offset 4 but the file has 6 bytes")
    }

    @Test func truncatedTensorData() throws {
        let bytes = TinyModelFactory.writer(type: .q4_1).bytes()
        let message = try Self.error(Array(bytes.dropLast(100)))
        #expect(message.hasPrefix("GGUF file is truncated: needed "))
        #expect(message.hasSuffix("but the file has \(bytes.count - 100) bytes"))
    }

    @Test func badMagic() throws {
        #expect(try Self.error(Self.minimalFile(magic: 0x1234_5678)) == "not a GGUF file: bad magic 0x12345678")
        #expect(try Self.error([]) == "GGUF file is truncated: needed 4 bytes at offset 0 but the file has 0 bytes")
    }

    @Test func unsupportedVersion() throws {
        #expect(try Self.error(Self.minimalFile(version: 4)) == "unsupported GGUF version 4 (supported: 1, 2, 3)")
    }

    @Test func unknownTensorType() throws {
        var w = GGUFTestWriter()
        w.tensors.append(
            .init(name: "blk.0.attn_q.weight", dimensions: [256], typeID: 12, bytes: Array(repeating: 0, count: 144)))
        #expect(
            try Self.error(w.bytes())
                == "unsupported tensor type Q4_K for tensor 'blk.0.attn_q.weight' (supported: F32, F16, Q8_0, Q4_0, Q4_1)"
        )
    }

    @Test func unsupportedArchitecture() throws {
        var w = TinyModelFactory.writer(type: .f32)
        w.metadata[0] = ("general.architecture", .string("gpt2"))
        let path = try w.write()
        #expect(throws: GGUFError.unsupportedArchitecture("gpt2")) { try TransformerModel.load(path: path, threads: 1) }
        #expect(
            GGUFError.unsupportedArchitecture("gpt2").description
                == "unsupported model architecture 'gpt2' (supported: llama)")
    }

    @Test func version2AndVersion1CountWidths() throws {
        #expect(try GGUFFile(path: GGUFTestWriter.write(Self.minimalFile(version: 2), name: "v2")).version == 2)
        // v1: u32 counts and string lengths.
        var v1: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { v1.append(contentsOf: $0) } }
        put(UInt32(0x4655_4747))
        put(UInt32(1))
        put(UInt32(0))
        put(UInt32(1))
        put(UInt32(3))
        v1 += Array("key".utf8)
        put(UInt32(4))
        put(UInt32(7))
        let file = try GGUFFile(path: GGUFTestWriter.write(v1, name: "v1"))
        #expect(file.metadata["key"] == .uint32(7))
    }

    @Test func missingTensorAndTypeNames() throws {
        var w = TinyModelFactory.writer(type: .f16)
        w.tensors.removeAll { $0.name == "blk.1.ffn_up.weight" }
        let path = try w.write()
        #expect(throws: GGUFError.missingTensor("blk.1.ffn_up.weight")) {
            try TransformerModel.load(path: path, threads: 1)
        }
        #expect(GGMLType.name(of: 2) == "Q4_0")
        #expect(GGMLType.name(of: 30) == "BF16")
    }
}
