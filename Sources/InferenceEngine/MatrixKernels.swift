/// Matrix–vector and matrix–matrix products over weights in their stored format.
///
/// Each weight block is decoded in registers and used against up to four input vectors before the next block is
/// decoded, so quantized weights are never expanded into a full float copy.
enum MatrixKernels {
    /// Computes `output[i * outputStride + r] = dot(W[r], input[i * inputStride ..< + columns])` for `r` in `rows`
    /// and `i` in `0..<count`.
    static func multiply(
        _ w: WeightMatrix, rows: Range<Int>, input: UnsafePointer<Float>, inputStride: Int, count: Int,
        output: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        switch w.type {
        case .f32:
            run(F32Block.self, w, rows, input, inputStride, count, output, outputStride)
        case .f16:
            run(F16Block.self, w, rows, input, inputStride, count, output, outputStride)
        case .q8_0:
            run(Q8_0Block.self, w, rows, input, inputStride, count, output, outputStride)
        case .q4_0:
            run(Q4_0Block.self, w, rows, input, inputStride, count, output, outputStride)
        case .q4_1:
            run(Q4_1Block.self, w, rows, input, inputStride, count, output, outputStride)
        }
    }

    @inline(__always)
    private static func run<B: BlockFormat>(
        _: B.Type, _ w: WeightMatrix, _ rows: Range<Int>, _ input: UnsafePointer<Float>, _ inputStride: Int,
        _ count: Int, _ output: UnsafeMutablePointer<Float>, _ outputStride: Int
    ) {
        let blocks = w.columns / 32
        var i = 0
        while i + 4 <= count {
            let x0 = UnsafeRawPointer(input + i * inputStride)
            let x1 = UnsafeRawPointer(input + (i + 1) * inputStride)
            let x2 = UnsafeRawPointer(input + (i + 2) * inputStride)
            let x3 = UnsafeRawPointer(input + (i + 3) * inputStride)
            for r in rows {
                let row = w.data + r * w.rowBytes
                var a0 = SIMD16<Float>()
                var a1 = SIMD16<Float>()
                var a2 = SIMD16<Float>()
                var a3 = SIMD16<Float>()
                for b in 0..<blocks {
                    let (lo, hi) = B.decode(row + b * B.bytesPer32)
                    let o = b * 128
                    a0 += lo * x0.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                    a0 += hi * x0.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
                    a1 += lo * x1.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                    a1 += hi * x1.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
                    a2 += lo * x2.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                    a2 += hi * x2.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
                    a3 += lo * x3.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                    a3 += hi * x3.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
                }
                output[i * outputStride + r] = a0.sum()
                output[(i + 1) * outputStride + r] = a1.sum()
                output[(i + 2) * outputStride + r] = a2.sum()
                output[(i + 3) * outputStride + r] = a3.sum()
            }
            i += 4
        }
        while i < count {
            let x0 = UnsafeRawPointer(input + i * inputStride)
            for r in rows {
                let row = w.data + r * w.rowBytes
                var a0 = SIMD16<Float>()
                var a1 = SIMD16<Float>()
                for b in 0..<blocks {
                    let (lo, hi) = B.decode(row + b * B.bytesPer32)
                    let o = b * 128
                    a0 += lo * x0.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                    a1 += hi * x0.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
                }
                output[i * outputStride + r] = (a0 + a1).sum()
            }
            i += 1
        }
    }
}
