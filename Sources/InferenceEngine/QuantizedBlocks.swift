/// Reference (scalar) decoding of ggml tensor rows, used for small tensors at load time and by tests.
/// The matrix kernels decode blocks in registers instead and never build a dequantized copy of a weight matrix.
public enum QuantizedBlocks {
    /// Decodes `count` values of type `type` starting at `source` into `destination`.
    /// `count` must be a multiple of the type's block size.
    public static func decode(
        _ type: GGMLType, from source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        switch type {
        case .f32:
            for i in 0..<count { destination[i] = source.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<count {
                destination[i] = Half.toFloat(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            }
        case .q8_0:
            for b in 0..<count / 32 {
                let block = source + b * 34
                let d = Half.toFloat(block.loadUnaligned(as: UInt16.self))
                for j in 0..<32 {
                    destination[b * 32 + j] = d * Float(Int8(bitPattern: block.load(fromByteOffset: 2 + j, as: UInt8.self)))
                }
            }
        case .q4_0:
            for b in 0..<count / 32 {
                let block = source + b * 18
                let d = Half.toFloat(block.loadUnaligned(as: UInt16.self))
                for j in 0..<16 {
                    let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
                    destination[b * 32 + j] = d * Float(Int(byte & 0x0f) - 8)
                    destination[b * 32 + j + 16] = d * Float(Int(byte >> 4) - 8)
                }
            }
        case .q4_1:
            for b in 0..<count / 32 {
                let block = source + b * 20
                let d = Half.toFloat(block.loadUnaligned(as: UInt16.self))
                let m = Half.toFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                for j in 0..<16 {
                    let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
                    destination[b * 32 + j] = d * Float(byte & 0x0f) + m
                    destination[b * 32 + j + 16] = d * Float(byte >> 4) + m
                }
            }
        }
    }

    /// Decodes `count` values into a new array.
    public static func decode(_ type: GGMLType, from source: UnsafeRawPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            decode(type, from: source, count: count, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// Encodes `values` (a multiple of the block size) as `type`, the way ggml's reference quantizers do:
    /// Q8_0 and Q4_0 scale by the element of largest magnitude, Q4_1 by the row's range. Used for weight conversion
    /// and for writing test files.
    public static func encode(_ values: [Float], as type: GGMLType) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(type.byteCount(elements: values.count))
        func appendHalf(_ v: Float) {
            let h = Half.fromFloat(v)
            out.append(UInt8(h & 0xff))
            out.append(UInt8(h >> 8))
        }
        switch type {
        case .f32:
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .f16:
            for v in values { appendHalf(v) }
        case .q8_0:
            for b in stride(from: 0, to: values.count, by: 32) {
                let block = values[b..<b + 32]
                let amax = block.map { abs($0) }.max() ?? 0
                let d = amax / 127
                let inverse = d == 0 ? 0 : 1 / d
                appendHalf(d)
                for v in block { out.append(UInt8(bitPattern: Int8((v * inverse).rounded()))) }
            }
        case .q4_0:
            for b in stride(from: 0, to: values.count, by: 32) {
                let block = Array(values[b..<b + 32])
                var signedMax: Float = 0
                for v in block where abs(v) > abs(signedMax) { signedMax = v }
                let d = signedMax / -8
                let inverse = d == 0 ? 0 : 1 / d
                appendHalf(d)
                func q(_ v: Float) -> UInt8 { UInt8(min(15, max(0, Int((v * inverse + 8.5).rounded(.down))))) }
                for j in 0..<16 { out.append(q(block[j]) | q(block[j + 16]) << 4) }
            }
        case .q4_1:
            for b in stride(from: 0, to: values.count, by: 32) {
                let block = Array(values[b..<b + 32])
                let lo = block.min() ?? 0
                let hi = block.max() ?? 0
                let d = (hi - lo) / 15
                let inverse = d == 0 ? 0 : 1 / d
                appendHalf(d)
                appendHalf(lo)
                func q(_ v: Float) -> UInt8 { UInt8(min(15, max(0, Int(((v - lo) * inverse + 0.5).rounded(.down))))) }
                for j in 0..<16 { out.append(q(block[j]) | q(block[j + 16]) << 4) }
            }
        }
        return out
    }
}
