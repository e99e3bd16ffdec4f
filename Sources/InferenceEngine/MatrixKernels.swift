/// Matrix–vector and matrix–matrix products over weights in their stored format.
///
/// Each weight block is decoded in registers and used against up to four input vectors before the next block is
/// decoded, so quantized weights are never expanded into a full float copy.
enum MatrixKernels {
    /// How products are computed.
    enum Strategy: Sendable {
        /// SIMD kernels decoding blocks in registers (fast when compiled with optimisation).
        case simd
        /// Plain scalar loops over one decoded row at a time. Unoptimised (debug) builds run these far faster than
        /// the SIMD kernels, whose generic SIMD operations are not inlined without optimisation.
        case scalar
    }

    #if DEBUG
        static let defaultStrategy = Strategy.scalar
    #else
        static let defaultStrategy = Strategy.simd
    #endif

    /// Scalar path: decodes each row into `scratch` (`w.columns` floats), then dots it with every input.
    static func multiplyScalar(
        _ w: WeightMatrix, rows: Range<Int>, input: UnsafePointer<Float>, inputStride: Int, count: Int,
        output: UnsafeMutablePointer<Float>, outputStride: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        let n = w.columns
        for r in rows {
            QuantizedBlocks.decode(w.type, from: w.data + r * w.rowBytes, count: n, into: scratch)
            for i in 0..<count {
                let x = input + i * inputStride
                var s0: Float = 0
                var s1: Float = 0
                var s2: Float = 0
                var s3: Float = 0
                var j = 0
                while j < n {
                    s0 += scratch[j] * x[j]
                    s1 += scratch[j + 1] * x[j + 1]
                    s2 += scratch[j + 2] * x[j + 2]
                    s3 += scratch[j + 3] * x[j + 3]
                    j += 4
                }
                output[i * outputStride + r] = (s0 + s1) + (s2 + s3)
            }
        }
    }

    /// Whether the SIMD kernels can take this matrix (rows are whole 64-value units).
    static func supportsSIMD(_ w: WeightMatrix) -> Bool { w.columns % 64 == 0 }

    /// Shuffles `count` input rows (stride `columns`) into the order the format's decoder produces, into
    /// `destination`. F32 needs no shuffle; callers may then pass the input directly.
    static func permuteInput(
        _ type: GGMLType, input: UnsafePointer<Float>, count: Int, columns: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        permutation(type).withUnsafeBufferPointer { table in
            permute(table, input: input, count: count, columns: columns, into: destination)
        }
    }

    private static func permute(
        _ table: UnsafeBufferPointer<Int>, input: UnsafePointer<Float>, count: Int, columns: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count {
            let x = input + i * columns
            let y = destination + i * columns
            var u = 0
            while u < columns {
                for j in 0..<64 { y[u + j] = x[u + table[j]] }
                u += 64
            }
        }
    }

    static func permutation(_ type: GGMLType) -> [Int] {
        switch type {
        case .f32: return f32Order
        case .f16: return f16Order
        case .q8_0: return q8Order
        case .q4_0, .q4_1: return q4Order
        }
    }

    private static let f32Order = (0..<64).map(F32Block.sourceIndex)
    private static let f16Order = (0..<64).map(F16Block.sourceIndex)
    private static let q8Order = (0..<64).map(Q8_0Block.sourceIndex)
    private static let q4Order = (0..<64).map(Q4_1Block.sourceIndex)

    /// Computes `output[i * outputStride + r] = dot(W[r], x_i)` for `r` in `rows` and `i` in `0..<count`, where
    /// `input` holds the `x_i` (stride `columns`) already shuffled by `permuteInput`.
    static func multiply(
        _ w: WeightMatrix, rows: Range<Int>, permutedInput input: UnsafePointer<Float>, count: Int,
        output: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        switch w.type {
        case .f32:
            run(F32Block.self, w, rows, input, count, output, outputStride)
        case .f16:
            run(F16Block.self, w, rows, input, count, output, outputStride)
        case .q8_0:
            run(Q8_0Block.self, w, rows, input, count, output, outputStride)
        case .q4_0:
            run(Q4_0Block.self, w, rows, input, count, output, outputStride)
        case .q4_1:
            run(Q4_1Block.self, w, rows, input, count, output, outputStride)
        }
    }

    @inline(__always)
    private static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]))
    }

    @inline(__always)
    private static func fma4(
        _ acc: inout SIMD8<Float>, _ d: DecodedPart, _ x: UnsafeRawPointer, _ offset: Int
    ) {
        acc += d.0 * x.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
        acc += d.1 * x.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
        acc += d.2 * x.loadUnaligned(fromByteOffset: offset + 64, as: SIMD8<Float>.self)
        acc += d.3 * x.loadUnaligned(fromByteOffset: offset + 96, as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func run<B: BlockFormat>(
        _: B.Type, _ w: WeightMatrix, _ rows: Range<Int>, _ input: UnsafePointer<Float>, _ count: Int,
        _ output: UnsafeMutablePointer<Float>, _ outputStride: Int
    ) {
        let units = w.columns / 64
        let stride = w.columns * 4
        let base = UnsafeRawPointer(input)
        var i = 0
        while i + 4 <= count {
            let x0 = base + i * stride
            let x1 = x0 + stride
            let x2 = x1 + stride
            let x3 = x2 + stride
            for r in rows {
                let row = w.data + r * w.rowBytes
                var a0 = SIMD8<Float>()
                var a1 = SIMD8<Float>()
                var a2 = SIMD8<Float>()
                var a3 = SIMD8<Float>()
                var u = 0
                while u < units {
                    let unit = row + u * B.unitBytes
                    let o = u * 256
                    let p0 = B.decode(unit, part: 0)
                    fma4(&a0, p0, x0, o)
                    fma4(&a1, p0, x1, o)
                    fma4(&a2, p0, x2, o)
                    fma4(&a3, p0, x3, o)
                    let p1 = B.decode(unit, part: 1)
                    fma4(&a0, p1, x0, o + 128)
                    fma4(&a1, p1, x1, o + 128)
                    fma4(&a2, p1, x2, o + 128)
                    fma4(&a3, p1, x3, o + 128)
                    u += 1
                }
                output[i * outputStride + r] = horizontalSum(a0)
                output[(i + 1) * outputStride + r] = horizontalSum(a1)
                output[(i + 2) * outputStride + r] = horizontalSum(a2)
                output[(i + 3) * outputStride + r] = horizontalSum(a3)
            }
            i += 4
        }
        while i < count {
            let x0 = base + i * stride
            for r in rows {
                let row = w.data + r * w.rowBytes
                var a0 = SIMD8<Float>()
                var a1 = SIMD8<Float>()
                var u = 0
                while u < units {
                    let unit = row + u * B.unitBytes
                    let o = u * 256
                    fma4(&a0, B.decode(unit, part: 0), x0, o)
                    fma4(&a1, B.decode(unit, part: 1), x0, o + 128)
                    u += 1
                }
                output[i * outputStride + r] = horizontalSum(a0 + a1)
            }
            i += 1
        }
    }
}
