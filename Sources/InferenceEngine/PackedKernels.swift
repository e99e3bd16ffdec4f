/// Products with `PackedMatrix` weights: eight rows at a time, one row per SIMD lane, each extracted quant
/// multiplied by a broadcast input value, so no horizontal sums and no shuffles are needed.
enum PackedKernels {
    /// Sums of each 32-value block of each input row (`count × blocks`), used for the per-block offsets `m`.
    static func blockSums(
        _ input: UnsafePointer<Float>, count: Int, columns: Int, into sums: UnsafeMutablePointer<Float>
    ) {
        let blocks = columns / 32
        for i in 0..<count {
            for b in 0..<blocks {
                let x = input + i * columns + b * 32
                var s: Float = 0
                for j in 0..<32 { s += x[j] }
                sums[i * blocks + b] = s
            }
        }
    }

    @inline(__always)
    private static func nibbles(_ w: SIMD8<UInt32>, _ shift: UInt32) -> SIMD8<Float> {
        unsafeBitCast(((w &>> shift) & 0x0F) | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_608
    }

    @inline(__always)
    private static func signedByte(_ w: SIMD8<Int32>, _ k: Int32) -> SIMD8<Float> {
        let v = (w &<< (24 - 8 * k)) &>> 24
        return unsafeBitCast(v &+ 0x4B40_0000, to: SIMD8<Float>.self) - 12_582_912
    }

    /// `output[i * outputStride + r] = dot(row r, input_i)` for the rows of row groups `groups`.
    static func multiply(
        _ p: PackedMatrix, groups: Range<Int>, input: UnsafePointer<Float>, blockSums: UnsafePointer<Float>,
        count: Int, output: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        if p.bitsPerWeight == 4 {
            multiply4(p, groups, input, blockSums, count, output, outputStride)
        } else {
            multiply8(p, groups, input, blockSums, count, output, outputStride)
        }
    }

    @inline(__always)
    private static func store(
        _ v: SIMD8<Float>, _ output: UnsafeMutablePointer<Float>, row: Int, rows: Int
    ) {
        if row + 8 <= rows {
            UnsafeMutableRawPointer(output + row).storeBytes(of: v, as: SIMD8<Float>.self)
        } else {
            for l in 0..<(rows - row) { output[row + l] = v[l] }
        }
    }

    private static func multiply4(
        _ p: PackedMatrix, _ groups: Range<Int>, _ input: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
        _ count: Int, _ output: UnsafeMutablePointer<Float>, _ outputStride: Int
    ) {
        let blocks = p.blocksPerRow
        let columns = p.columns
        var i = 0
        while i + 2 <= count {
            let x0 = input + i * columns
            let x1 = x0 + columns
            for g in groups {
                var acc0 = SIMD8<Float>()
                var acc1 = SIMD8<Float>()
                var block = UnsafeRawPointer(p.data + g * blocks * p.groupBlockBytes)
                for b in 0..<blocks {
                    var s0 = SIMD8<Float>()
                    var s1 = SIMD8<Float>()
                    var t0 = SIMD8<Float>()
                    var t1 = SIMD8<Float>()
                    let xb0 = x0 + b * 32
                    let xb1 = x1 + b * 32
                    for k in 0..<4 {
                        let w = block.load(fromByteOffset: 64 + 32 * k, as: SIMD8<UInt32>.self)
                        for j in 0..<4 {
                            let e = 4 * k + j
                            let lo = nibbles(w, UInt32(8 * j))
                            let hi = nibbles(w, UInt32(8 * j + 4))
                            s0 += lo * xb0[e]
                            t0 += hi * xb0[e + 16]
                            s1 += lo * xb1[e]
                            t1 += hi * xb1[e + 16]
                        }
                    }
                    let d = block.load(as: SIMD8<Float>.self)
                    let m = block.load(fromByteOffset: 32, as: SIMD8<Float>.self)
                    acc0 += (s0 + t0) * d + m * sums[i * blocks + b]
                    acc1 += (s1 + t1) * d + m * sums[(i + 1) * blocks + b]
                    block += p.groupBlockBytes
                }
                store(acc0, output + i * outputStride, row: g * 8, rows: p.rows)
                store(acc1, output + (i + 1) * outputStride, row: g * 8, rows: p.rows)
            }
            i += 2
        }
        while i < count {
            let x0 = input + i * columns
            for g in groups {
                var acc0 = SIMD8<Float>()
                var block = UnsafeRawPointer(p.data + g * blocks * p.groupBlockBytes)
                for b in 0..<blocks {
                    var s0 = SIMD8<Float>()
                    var s1 = SIMD8<Float>()
                    var t0 = SIMD8<Float>()
                    var t1 = SIMD8<Float>()
                    let xb = x0 + b * 32
                    for k in stride(from: 0, to: 4, by: 2) {
                        let w = block.load(fromByteOffset: 64 + 32 * k, as: SIMD8<UInt32>.self)
                        let v = block.load(fromByteOffset: 96 + 32 * k, as: SIMD8<UInt32>.self)
                        for j in 0..<4 {
                            let e = 4 * k + j
                            s0 += nibbles(w, UInt32(8 * j)) * xb[e]
                            t0 += nibbles(w, UInt32(8 * j + 4)) * xb[e + 16]
                            s1 += nibbles(v, UInt32(8 * j)) * xb[e + 4]
                            t1 += nibbles(v, UInt32(8 * j + 4)) * xb[e + 20]
                        }
                    }
                    let d = block.load(as: SIMD8<Float>.self)
                    let m = block.load(fromByteOffset: 32, as: SIMD8<Float>.self)
                    acc0 += ((s0 + t0) + (s1 + t1)) * d + m * sums[i * blocks + b]
                    block += p.groupBlockBytes
                }
                store(acc0, output + i * outputStride, row: g * 8, rows: p.rows)
            }
            i += 1
        }
    }

    private static func multiply8(
        _ p: PackedMatrix, _ groups: Range<Int>, _ input: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
        _ count: Int, _ output: UnsafeMutablePointer<Float>, _ outputStride: Int
    ) {
        let blocks = p.blocksPerRow
        let columns = p.columns
        for i in 0..<count {
            let x0 = input + i * columns
            for g in groups {
                var acc0 = SIMD8<Float>()
                var block = UnsafeRawPointer(p.data + g * blocks * p.groupBlockBytes)
                for b in 0..<blocks {
                    var s0 = SIMD8<Float>()
                    var s1 = SIMD8<Float>()
                    let xb = x0 + b * 32
                    for k in stride(from: 0, to: 8, by: 2) {
                        let w = block.load(fromByteOffset: 64 + 32 * k, as: SIMD8<Int32>.self)
                        let v = block.load(fromByteOffset: 96 + 32 * k, as: SIMD8<Int32>.self)
                        for j in 0..<4 {
                            s0 += signedByte(w, Int32(j)) * xb[4 * k + j]
                            s1 += signedByte(v, Int32(j)) * xb[4 * k + 4 + j]
                        }
                    }
                    acc0 += (s0 + s1) * block.load(as: SIMD8<Float>.self)
                    block += p.groupBlockBytes
                }
                store(acc0, output + i * outputStride, row: g * 8, rows: p.rows)
            }
        }
    }
}
