#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Q4_0, Q4_1, Q8_0 or F16 matrix re-laid out at load time for the matrix kernels, in its own precision (4, 8 or
/// 16 bits per weight, plus the format's own f16 scales); no float copy is made.
///
/// Rows are taken eight at a time (a "row group"; the last group is padded with zero rows). For each 32-value block
/// of a row group the layout is the scales, then the quants:
/// - 8 × f16 scales `d` (one per row), then for Q4 8 × f16 block minimums `m` (Q4_1; zeros for Q4_0): the very
///   values the GGUF block holds, so a packed row decodes exactly as the stored one (`d q + m`, `d (q - 8)`, `d q`);
/// - the quants as u32 words, word-major and row-minor: word `k` of rows 0…7, then word `k + 1`, … (Q4: 4 words of
///   16 packed bytes per row, the nibbles as stored, 0…15; Q8_0: 8 words of signed bytes).
///
/// A block of a row group is then 160 bytes for Q4 (a 32-byte multiple, so the kernels' loads stay aligned) and
/// 272 for Q8_0 (16 of scales, 256 of quants: 8.5 bits a weight, against the file's 8.5). F16 has no scales: a block of a row group is 16 words (two halves each) × 8 rows, 512 bytes.
///
/// One `SIMD8<UInt32>` load then holds the same word of all eight rows, so one lane is one row, per-row scales are
/// one vector load (and one conversion), and each extracted nibble or byte multiplies a single broadcast input
/// value.
final class PackedMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    let rowGroups: Int
    let blocksPerRow: Int
    /// 4, 8 or 16.
    let bitsPerWeight: Int
    /// Bytes of one block of one row group: 32 of scales and minimums, then 128 of quants (Q4); 16 of scales, then
    /// 256 of quants (Q8_0); 512 for F16.
    let groupBlockBytes: Int
    /// Q4_1: a block's minimums `m` follow its scales (a value is `d q + m`); Q4_0's values are `d (q - 8)`.
    let hasOffsets: Bool
    /// Where a block's quants start: 32 for Q4, 16 for Q8_0, 0 for F16.
    let quantOffset: Int
    let data: UnsafeMutableRawPointer

    static func supports(_ type: GGMLType) -> Bool { type != .f32 }

    init(_ w: WeightMatrix) {
        precondition(Self.supports(w.type))
        rows = w.rows
        columns = w.columns
        rowGroups = (w.rows + 7) / 8
        blocksPerRow = w.columns / 32
        bitsPerWeight = w.type == .f16 ? 16 : w.type == .q8_0 ? 8 : 4
        let quantBytes = bitsPerWeight * 32
        hasOffsets = w.type == .q4_1
        // Q8_0 has no minimums: its quants follow the 16 bytes of scales (272-byte blocks; Q4 keeps 32 so that its
        // 160-byte blocks stay 32-byte aligned).
        quantOffset = bitsPerWeight == 16 ? 0 : bitsPerWeight == 8 ? 16 : 32
        groupBlockBytes = bitsPerWeight == 16 ? 512 : quantOffset + quantBytes
        let total = rowGroups * blocksPerRow * groupBlockBytes
        data = .allocate(byteCount: total, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        let source = w.data.assumingMemoryBound(to: UInt8.self)
        let words = quantBytes / 32
        for r in 0..<rows {
            let group = r / 8
            let lane = r % 8
            if bitsPerWeight == 16 {
                for b in 0..<blocksPerRow {
                    let block = source + r * w.rowBytes + b * 64
                    let out = data + (group * blocksPerRow + b) * groupBlockBytes
                    for k in 0..<16 {
                        for byte in 0..<4 {
                            out.storeBytes(
                                of: block[4 * k + byte], toByteOffset: 32 * k + 4 * lane + byte, as: UInt8.self)
                        }
                    }
                }
                continue
            }
            for b in 0..<blocksPerRow {
                let block = source + r * w.rowBytes + b * w.type.blockBytes
                let out = data + (group * blocksPerRow + b) * groupBlockBytes
                // The f16 scale (and Q4_1's minimum) as stored.
                out.storeBytes(of: block[0], toByteOffset: 2 * lane, as: UInt8.self)
                out.storeBytes(of: block[1], toByteOffset: 2 * lane + 1, as: UInt8.self)
                var quants = block + 2
                if hasOffsets {
                    out.storeBytes(of: block[2], toByteOffset: 16 + 2 * lane, as: UInt8.self)
                    out.storeBytes(of: block[3], toByteOffset: 16 + 2 * lane + 1, as: UInt8.self)
                    quants = block + 4
                }
                for k in 0..<words {
                    for byte in 0..<4 {
                        out.storeBytes(
                            of: quants[4 * k + byte], toByteOffset: quantOffset + 32 * k + 4 * lane + byte,
                            as: UInt8.self)
                    }
                }
            }
        }
    }

    /// Row `row`'s values from the packed bytes (`columns` floats): what the kernels multiply by, equal to the
    /// stored format's own decoding.
    func decodeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        let group = row / 8
        let lane = row % 8
        for b in 0..<blocksPerRow {
            let block = UnsafeRawPointer(data + (group * blocksPerRow + b) * groupBlockBytes)
            let out = destination + b * 32
            if bitsPerWeight == 16 {
                for k in 0..<16 {
                    let word = block.load(fromByteOffset: 32 * k + 4 * lane, as: UInt32.self)
                    out[2 * k] = Half.toFloat(UInt16(truncatingIfNeeded: word))
                    out[2 * k + 1] = Half.toFloat(UInt16(truncatingIfNeeded: word >> 16))
                }
                continue
            }
            let d = Half.toFloat(block.loadUnaligned(fromByteOffset: 2 * lane, as: UInt16.self))
            let m = hasOffsets ? Half.toFloat(block.loadUnaligned(fromByteOffset: 16 + 2 * lane, as: UInt16.self)) : 0
            for k in 0..<(bitsPerWeight == 4 ? 4 : 8) {
                for byte in 0..<4 {
                    let q = block.load(fromByteOffset: quantOffset + 32 * k + 4 * lane + byte, as: UInt8.self)
                    if bitsPerWeight == 8 {
                        out[4 * k + byte] = d * Float(Int8(bitPattern: q))
                    } else if hasOffsets {
                        out[4 * k + byte] = d * Float(q & 0x0f) + m
                        out[4 * k + byte + 16] = d * Float(q >> 4) + m
                    } else {
                        out[4 * k + byte] = d * Float(Int32(q & 0x0f) - 8)
                        out[4 * k + byte + 16] = d * Float(Int32(q >> 4) - 8)
                    }
                }
            }
        }
    }

    deinit { data.deallocate() }
}
