#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Q4_0, Q4_1, Q8_0 or F16 matrix re-laid out at load time for the matrix kernels, in its own precision (4, 8 or
/// 16 bits per weight, plus two f32 numbers per 32 weights for the quantized types); no float copy is made.
///
/// Rows are taken eight at a time (a "row group"; the last group is padded with zero rows). For each 32-value block
/// of a row group the layout is:
/// - 8 × f32 scales `d` (one per row), then, for Q4_1 only, 8 × f32 offsets `m` (the block minimum + 8 d; Q4_0 and
///   Q8_0 have none: their offsets would all be 0),
/// - the quants as u32 words, word-major and row-minor: word `k` of rows 0…7, then word `k + 1`, … (Q4: 4 words of
///   16 packed bytes per row, each nibble XOR 8 so that it reads as the signed number `quant - 8`; Q8_0: 8 words
///   of signed bytes). A row's value is then `d * signedQuant + m`.
///
/// F16 has no scales: a block of a row group is 16 words (two halves each) × 8 rows, 512 bytes.
///
/// One `SIMD8<UInt32>` load then holds the same word of all eight rows, so one lane is one row, per-row scales are
/// plain vector loads, and each extracted nibble or byte multiplies a single broadcast input value.
final class PackedMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    let rowGroups: Int
    let blocksPerRow: Int
    /// 4, 8 or 16.
    let bitsPerWeight: Int
    /// Bytes of one block of one row group: 32 of scales (64 with Q4_1's offsets), then 128 (Q4) or 256 (Q8) of
    /// quants; 512 for F16.
    let groupBlockBytes: Int
    /// Q4_1: a block has offsets `m` after its scales.
    let hasOffsets: Bool
    /// Where a block's quants start: 64 with offsets, 32 without (0 for F16).
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
        quantOffset = bitsPerWeight == 16 ? 0 : hasOffsets ? 64 : 32
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
                let d = Half.toFloat(UInt16(block[0]) | UInt16(block[1]) << 8)
                var m: Float = 0
                var quants = block + 2
                switch w.type {
                case .q4_0:
                    m = 0
                case .q4_1:
                    m = Half.toFloat(UInt16(block[2]) | UInt16(block[3]) << 8) + 8 * d
                    quants = block + 4
                default:
                    break
                }
                out.storeBytes(of: d, toByteOffset: 4 * lane, as: Float.self)
                if hasOffsets { out.storeBytes(of: m, toByteOffset: 32 + 4 * lane, as: Float.self) }
                for k in 0..<words {
                    for byte in 0..<4 {
                        // Q4 nibbles are stored XOR 8 so the kernels can sign-extend them to `quant - 8`.
                        let q = bitsPerWeight == 4 ? quants[4 * k + byte] ^ 0x88 : quants[4 * k + byte]
                        out.storeBytes(of: q, toByteOffset: quantOffset + 32 * k + 4 * lane + byte, as: UInt8.self)
                    }
                }
            }
        }
    }

    /// Row `row`'s values from the packed bytes (`columns` floats): what the kernels multiply by. Equal to the
    /// stored format's own decoding for Q8_0, Q4_0 and F16; for Q4_1 within rounding (`d (q - 8) + (min + 8 d)`).
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
            let d = block.load(fromByteOffset: 4 * lane, as: Float.self)
            let m = hasOffsets ? block.load(fromByteOffset: 32 + 4 * lane, as: Float.self) : 0
            for k in 0..<(bitsPerWeight == 4 ? 4 : 8) {
                for byte in 0..<4 {
                    let q = block.load(fromByteOffset: quantOffset + 32 * k + 4 * lane + byte, as: UInt8.self)
                    if bitsPerWeight == 8 {
                        out[4 * k + byte] = d * Float(Int8(bitPattern: q))
                    } else {
                        // Stored XOR 8: as a signed nibble, the quant minus 8.
                        let low = Int8(bitPattern: q << 4) >> 4
                        let high = Int8(bitPattern: q) >> 4
                        out[4 * k + byte] = hasOffsets ? d * Float(low) + m : d * Float(low)
                        out[4 * k + byte + 16] = hasOffsets ? d * Float(high) + m : d * Float(high)
                    }
                }
            }
        }
    }

    deinit { data.deallocate() }
}
