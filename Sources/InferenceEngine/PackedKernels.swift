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
        } else if p.bitsPerWeight == 16 {
            multiply16(p, groups, input, count, output, outputStride)
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

    /// Nibble `j` (0…7) of each lane, sign-extended. `PackedMatrix` stores Q4 nibbles XOR 8, so this is the
    /// stored quant minus 8.
    @inline(__always)
    private static func signedNibble(_ w: SIMD8<Int32>, _ j: Int32) -> SIMD8<Float> {
        let v = (w &<< (28 - 4 * j)) &>> 28
        return unsafeBitCast(v &+ 0x4B40_0000, to: SIMD8<Float>.self) - 12_582_912
    }

    /// Position in the block of nibble `j` of word `k`: byte `4k + j/2`, low nibble first.
    @inline(__always)
    private static func element(_ k: Int, _ j: Int) -> Int { 4 * k + j / 2 + 16 * (j % 2) }

    private static func multiply4(
        _ p: PackedMatrix, _ groups: Range<Int>, _ input: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
        _ count: Int, _ output: UnsafeMutablePointer<Float>, _ outputStride: Int
    ) {
        let blocks = p.blocksPerRow
        let columns = p.columns
        var i = 0
        while i + 4 <= count {
            let x0 = input + i * columns
            let x1 = x0 + columns
            let x2 = x1 + columns
            let x3 = x2 + columns
            for g in groups {
                var acc0 = SIMD8<Float>()
                var acc1 = SIMD8<Float>()
                var acc2 = SIMD8<Float>()
                var acc3 = SIMD8<Float>()
                var block = UnsafeRawPointer(p.data + g * blocks * p.groupBlockBytes)
                for b in 0..<blocks {
                    var s0 = SIMD8<Float>()
                    var s1 = SIMD8<Float>()
                    var s2 = SIMD8<Float>()
                    var s3 = SIMD8<Float>()
                    let o = b * 32
                    for k in 0..<4 {
                        let w = block.load(fromByteOffset: 64 + 32 * k, as: SIMD8<Int32>.self)
                        for j in 0..<8 {
                            let n = signedNibble(w, Int32(j))
                            let e = o + element(k, j)
                            s0 += n * x0[e]
                            s1 += n * x1[e]
                            s2 += n * x2[e]
                            s3 += n * x3[e]
                        }
                    }
                    let d = block.load(as: SIMD8<Float>.self)
                    let m = block.load(fromByteOffset: 32, as: SIMD8<Float>.self)
                    acc0 += s0 * d + m * sums[i * blocks + b]
                    acc1 += s1 * d + m * sums[(i + 1) * blocks + b]
                    acc2 += s2 * d + m * sums[(i + 2) * blocks + b]
                    acc3 += s3 * d + m * sums[(i + 3) * blocks + b]
                    block += p.groupBlockBytes
                }
                store(acc0, output + i * outputStride, row: g * 8, rows: p.rows)
                store(acc1, output + (i + 1) * outputStride, row: g * 8, rows: p.rows)
                store(acc2, output + (i + 2) * outputStride, row: g * 8, rows: p.rows)
                store(acc3, output + (i + 3) * outputStride, row: g * 8, rows: p.rows)
            }
            i += 4
        }
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
                    let xb0 = x0 + b * 32
                    let xb1 = x1 + b * 32
                    for k in 0..<4 {
                        let w = block.load(fromByteOffset: 64 + 32 * k, as: SIMD8<Int32>.self)
                        for j in 0..<8 {
                            let n = signedNibble(w, Int32(j))
                            s0 += n * xb0[element(k, j)]
                            s1 += n * xb1[element(k, j)]
                        }
                    }
                    let d = block.load(as: SIMD8<Float>.self)
                    let m = block.load(fromByteOffset: 32, as: SIMD8<Float>.self)
                    acc0 += s0 * d + m * sums[i * blocks + b]
                    acc1 += s1 * d + m * sums[(i + 1) * blocks + b]
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
                    let xb = x0 + b * 32
                    for k in stride(from: 0, to: 4, by: 2) {
                        let w = block.load(fromByteOffset: 64 + 32 * k, as: SIMD8<Int32>.self)
                        let v = block.load(fromByteOffset: 96 + 32 * k, as: SIMD8<Int32>.self)
                        for j in 0..<8 {
                            s0 += signedNibble(w, Int32(j)) * xb[element(k, j)]
                            s1 += signedNibble(v, Int32(j)) * xb[element(k + 1, j)]
                        }
                    }
                    let d = block.load(as: SIMD8<Float>.self)
                    let m = block.load(fromByteOffset: 32, as: SIMD8<Float>.self)
                    acc0 += (s0 + s1) * d + m * sums[i * blocks + b]
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
                    let o = b * 32
                    for k in 0..<8 {
                        let w = block.load(fromByteOffset: 64 + 32 * k, as: SIMD8<Int32>.self)
                        for j in 0..<4 {
                            let n = signedByte(w, Int32(j))
                            s0 += n * x0[o + 4 * k + j]
                            s1 += n * x1[o + 4 * k + j]
                        }
                    }
                    let d = block.load(as: SIMD8<Float>.self)
                    acc0 += s0 * d
                    acc1 += s1 * d
                    block += p.groupBlockBytes
                }
                store(acc0, output + i * outputStride, row: g * 8, rows: p.rows)
                store(acc1, output + (i + 1) * outputStride, row: g * 8, rows: p.rows)
            }
            i += 2
        }
        while i < count {
            defer { i += 1 }
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

    /// Half-precision bits in the low 16 bits of each lane to floats (finite values; integer operations only).
    @inline(__always)
    private static func halves(_ h: SIMD8<UInt32>) -> SIMD8<Float> {
        let magnitude = (h & 0x7fff) &<< 13
        let f = unsafeBitCast(magnitude, to: SIMD8<Float>.self) * Float(bitPattern: 0x7780_0000)
        return unsafeBitCast(unsafeBitCast(f, to: SIMD8<UInt32>.self) | ((h & 0x8000) &<< 16), to: SIMD8<Float>.self)
    }

    private static func multiply16(
        _ p: PackedMatrix, _ groups: Range<Int>, _ input: UnsafePointer<Float>, _ count: Int,
        _ output: UnsafeMutablePointer<Float>, _ outputStride: Int
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
                    let o = b * 32
                    for k in 0..<16 {
                        let w = block.load(fromByteOffset: 32 * k, as: SIMD8<UInt32>.self)
                        let lo = halves(w & 0xffff)
                        let hi = halves(w &>> 16)
                        acc0 += lo * x0[o + 2 * k]
                        acc1 += lo * x1[o + 2 * k]
                        acc0 += hi * x0[o + 2 * k + 1]
                        acc1 += hi * x1[o + 2 * k + 1]
                    }
                    block += p.groupBlockBytes
                }
                store(acc0, output + i * outputStride, row: g * 8, rows: p.rows)
                store(acc1, output + (i + 1) * outputStride, row: g * 8, rows: p.rows)
            }
            i += 2
        }
        while i < count {
            defer { i += 1 }
            let x0 = input + i * columns
            for g in groups {
                var acc0 = SIMD8<Float>()
                var acc1 = SIMD8<Float>()
                var block = UnsafeRawPointer(p.data + g * blocks * p.groupBlockBytes)
                for b in 0..<blocks {
                    let o = b * 32
                    for k in 0..<16 {
                        let w = block.load(fromByteOffset: 32 * k, as: SIMD8<UInt32>.self)
                        acc0 += halves(w & 0xffff) * x0[o + 2 * k]
                        acc1 += halves(w &>> 16) * x0[o + 2 * k + 1]
                    }
                    block += p.groupBlockBytes
                }
                store(acc0 + acc1, output + i * outputStride, row: g * 8, rows: p.rows)
            }
        }
    }
}
