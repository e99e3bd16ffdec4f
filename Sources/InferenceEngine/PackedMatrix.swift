#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A quantized matrix (Q4_0, Q4_1 or Q8_0) re-laid out at load time for the matrix–vector kernels, still quantized
/// (4 or 8 bits per weight plus two f32 numbers per 32 weights); no float copy of the weights is made.
///
/// Rows are taken eight at a time (a "row group"; the last group is padded with zero rows). For each 32-value block
/// of a row group the layout is:
/// - 8 × f32 scales `d` (one per row), then 8 × f32 offsets `m` (Q4_1: the block minimum; Q4_0: `-8 d`; Q8_0: 0),
/// - the quants as u32 words, word-major and row-minor: word `k` of rows 0…7, then word `k + 1`, … (Q4: 4 words of
///   16 packed bytes per row; Q8_0: 8 words of signed bytes).
///
/// One `SIMD8<UInt32>` load then holds the same word of all eight rows, so one lane is one row, per-row scales are
/// plain vector loads, and each extracted nibble or byte multiplies a single broadcast input value.
final class PackedMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    let rowGroups: Int
    let blocksPerRow: Int
    /// 4 or 8.
    let bitsPerWeight: Int
    /// Bytes of one block of one row group: 64 of scales and offsets, then 128 (Q4) or 256 (Q8) of quants.
    let groupBlockBytes: Int
    let data: UnsafeMutableRawPointer

    static func supports(_ type: GGMLType) -> Bool { type == .q4_0 || type == .q4_1 || type == .q8_0 }

    init(_ w: WeightMatrix) {
        precondition(Self.supports(w.type))
        rows = w.rows
        columns = w.columns
        rowGroups = (w.rows + 7) / 8
        blocksPerRow = w.columns / 32
        bitsPerWeight = w.type == .q8_0 ? 8 : 4
        let quantBytes = bitsPerWeight == 4 ? 128 : 256
        groupBlockBytes = 64 + quantBytes
        let total = rowGroups * blocksPerRow * groupBlockBytes
        data = .allocate(byteCount: total, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        let source = w.data.assumingMemoryBound(to: UInt8.self)
        let words = quantBytes / 32
        for r in 0..<rows {
            let group = r / 8
            let lane = r % 8
            for b in 0..<blocksPerRow {
                let block = source + r * w.rowBytes + b * w.type.blockBytes
                let out = data + (group * blocksPerRow + b) * groupBlockBytes
                let d = Half.toFloat(UInt16(block[0]) | UInt16(block[1]) << 8)
                var m: Float = 0
                var quants = block + 2
                switch w.type {
                case .q4_0:
                    m = -8 * d
                case .q4_1:
                    m = Half.toFloat(UInt16(block[2]) | UInt16(block[3]) << 8)
                    quants = block + 4
                default:
                    break
                }
                out.storeBytes(of: d, toByteOffset: 4 * lane, as: Float.self)
                out.storeBytes(of: m, toByteOffset: 32 + 4 * lane, as: Float.self)
                for k in 0..<words {
                    for byte in 0..<4 {
                        out.storeBytes(
                            of: quants[4 * k + byte], toByteOffset: 64 + 32 * k + 4 * lane + byte, as: UInt8.self)
                    }
                }
            }
        }
    }

    deinit { data.deallocate() }
}
