/// Products with F32 weights for several input rows at once (batched decode, speculative verification, prefill).
///
/// Four weight rows against four input rows per block: each 16-float step loads 4 + 4 vectors for 16 fused
/// multiply-adds, so the arithmetic units, not the loads, set the pace — where a one-row-at-a-time loop loads a
/// weight vector and an input vector for every single multiply-add. The four weight rows (a few KB) stay in the
/// L1 cache while every group of inputs passes over them, so each weight is read from memory once per call.
enum F32Kernels {
    typealias Vector = SIMD16<Float>

    /// `output[i * outputStride + r] = dot(W[r], x_i)` for `r` in `rows` and `i` in `0..<count`; `columns` must be a
    /// multiple of 16.
    static func multiply(
        _ w: WeightMatrix, rows: Range<Int>, input: UnsafePointer<Float>, count: Int,
        output: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        let n = w.columns
        let x = UnsafeRawPointer(input)
        let xStride = n * 4
        var r = rows.lowerBound
        while r < rows.upperBound {
            let rowCount = min(4, rows.upperBound - r)
            let weights = w.data + r * w.rowBytes
            var i = 0
            if rowCount == 4 {
                while i + 4 <= count {
                    block4x4(
                        weights, w.rowBytes, x + i * xStride, xStride, n, output + i * outputStride + r, outputStride)
                    i += 4
                }
                while i < count {
                    block4x1(weights, w.rowBytes, x + i * xStride, n, output + i * outputStride + r)
                    i += 1
                }
            } else {
                for k in 0..<rowCount {
                    for j in 0..<count {
                        output[j * outputStride + r + k] = dot(weights + k * w.rowBytes, x + j * xStride, n)
                    }
                }
            }
            r += rowCount
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafeRawPointer, _ offset: Int) -> Vector {
        p.loadUnaligned(fromByteOffset: offset, as: Vector.self)
    }

    /// Four rows (`w`, stride `rowBytes`) against four inputs (`x`, stride `xStride`): `out[i * outStride + k]`.
    @inline(__always)
    private static func block4x4(
        _ w: UnsafeRawPointer, _ rowBytes: Int, _ x: UnsafeRawPointer, _ xStride: Int, _ n: Int,
        _ out: UnsafeMutablePointer<Float>, _ outStride: Int
    ) {
        let w0 = w
        let w1 = w0 + rowBytes
        let w2 = w1 + rowBytes
        let w3 = w2 + rowBytes
        let x0 = x
        let x1 = x0 + xStride
        let x2 = x1 + xStride
        let x3 = x2 + xStride
        var a00 = Vector()
        var a01 = Vector()
        var a02 = Vector()
        var a03 = Vector()
        var a10 = Vector()
        var a11 = Vector()
        var a12 = Vector()
        var a13 = Vector()
        var a20 = Vector()
        var a21 = Vector()
        var a22 = Vector()
        var a23 = Vector()
        var a30 = Vector()
        var a31 = Vector()
        var a32 = Vector()
        var a33 = Vector()
        var o = 0
        let end = n * 4
        while o < end {
            let u0 = load(x0, o)
            let u1 = load(x1, o)
            let u2 = load(x2, o)
            let u3 = load(x3, o)
            let v0 = load(w0, o)
            a00.addProduct(v0, u0)
            a01.addProduct(v0, u1)
            a02.addProduct(v0, u2)
            a03.addProduct(v0, u3)
            let v1 = load(w1, o)
            a10.addProduct(v1, u0)
            a11.addProduct(v1, u1)
            a12.addProduct(v1, u2)
            a13.addProduct(v1, u3)
            let v2 = load(w2, o)
            a20.addProduct(v2, u0)
            a21.addProduct(v2, u1)
            a22.addProduct(v2, u2)
            a23.addProduct(v2, u3)
            let v3 = load(w3, o)
            a30.addProduct(v3, u0)
            a31.addProduct(v3, u1)
            a32.addProduct(v3, u2)
            a33.addProduct(v3, u3)
            o += 64
        }
        out[0] = a00.sum()
        out[1] = a10.sum()
        out[2] = a20.sum()
        out[3] = a30.sum()
        out[outStride] = a01.sum()
        out[outStride + 1] = a11.sum()
        out[outStride + 2] = a21.sum()
        out[outStride + 3] = a31.sum()
        out[2 * outStride] = a02.sum()
        out[2 * outStride + 1] = a12.sum()
        out[2 * outStride + 2] = a22.sum()
        out[2 * outStride + 3] = a32.sum()
        out[3 * outStride] = a03.sum()
        out[3 * outStride + 1] = a13.sum()
        out[3 * outStride + 2] = a23.sum()
        out[3 * outStride + 3] = a33.sum()
    }

    /// Four rows against one input: `out[k]`.
    @inline(__always)
    private static func block4x1(
        _ w: UnsafeRawPointer, _ rowBytes: Int, _ x: UnsafeRawPointer, _ n: Int, _ out: UnsafeMutablePointer<Float>
    ) {
        let w1 = w + rowBytes
        let w2 = w1 + rowBytes
        let w3 = w2 + rowBytes
        var a0 = Vector()
        var a1 = Vector()
        var a2 = Vector()
        var a3 = Vector()
        var o = 0
        let end = n * 4
        while o < end {
            let u = load(x, o)
            a0.addProduct(load(w, o), u)
            a1.addProduct(load(w1, o), u)
            a2.addProduct(load(w2, o), u)
            a3.addProduct(load(w3, o), u)
            o += 64
        }
        out[0] = a0.sum()
        out[1] = a1.sum()
        out[2] = a2.sum()
        out[3] = a3.sum()
    }

    @inline(__always)
    private static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, _ n: Int) -> Float {
        var a = Vector()
        var o = 0
        while o < n * 4 {
            a.addProduct(load(w, o), load(x, o))
            o += 64
        }
        return a.sum()
    }
}
