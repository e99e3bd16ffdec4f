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
/// - 8 × f32 scales `d` (one per row), then 8 × f32 offsets `m` (Q4_1: the block minimum + 8 d; Q4_0 and Q8_0: 0),
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
    /// Bytes of one block of one row group: 64 of scales and offsets, then 128 (Q4) or 256 (Q8) of quants; 512
    /// for F16.
    let groupBlockBytes: Int
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
        groupBlockBytes = bitsPerWeight == 16 ? 512 : 64 + quantBytes
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
                out.storeBytes(of: m, toByteOffset: 32 + 4 * lane, as: Float.self)
                for k in 0..<words {
                    for byte in 0..<4 {
                        // Q4 nibbles are stored XOR 8 so the kernels can sign-extend them to `quant - 8`.
                        let q = bitsPerWeight == 4 ? quants[4 * k + byte] ^ 0x88 : quants[4 * k + byte]
                        out.storeBytes(of: q, toByteOffset: 64 + 32 * k + 4 * lane + byte, as: UInt8.self)
                    }
                }
            }
        }
    }

    deinit { data.deallocate() }
}
