/// Reference (scalar) decoding of ggml tensor rows, used for small tensors at load time and by tests.
/// The matrix kernels decode blocks in registers instead and never build a dequantized copy of a weight matrix.
public enum QuantizedBlocks {
    /// Decodes `count` values of type `type` starting at `source` into `destination`.
    /// `count` must be a multiple of the type's block size.
    public static func decode(
        _ type: GGMLType, from source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        @inline(__always) func half(_ offset: Int) -> Float {
            Half.toFloat(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
        }
        // `while` loops: unoptimised builds run them much faster than `for … in` ranges.
        switch type {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16:
            var i = 0
            while i < count {
                destination[i] = half(2 * i)
                i += 1
            }
        case .q8_0:
            var b = 0
            while b < count / 32 {
                let o = b * 34
                let d = half(o)
                let out = destination + b * 32
                let q = UnsafeRawPointer(bytes + o + 2).assumingMemoryBound(to: Int8.self)
                var j = 0
                while j < 32 {
                    out[j] = d * Float(q[j])
                    j += 1
                }
                b += 1
            }
        case .q4_0:
            var b = 0
            while b < count / 32 {
                let o = b * 18
                let d = half(o)
                let out = destination + b * 32
                var j = 0
                while j < 16 {
                    let byte = bytes[o + 2 + j]
                    out[j] = d * Float(Int32(byte & 0x0f) - 8)
                    out[j + 16] = d * Float(Int32(byte >> 4) - 8)
                    j += 1
                }
                b += 1
            }
        case .q4_1:
            var b = 0
            while b < count / 32 {
                let o = b * 20
                let d = half(o)
                let m = half(o + 2)
                let out = destination + b * 32
                var j = 0
                while j < 16 {
                    let byte = bytes[o + 4 + j]
                    out[j] = d * Float(byte & 0x0f) + m
                    out[j + 16] = d * Float(byte >> 4) + m
                    j += 1
                }
                b += 1
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
