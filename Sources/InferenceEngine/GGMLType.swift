/// The ggml tensor element types this engine reads, with their block layouts.
///
/// Quantized types pack 32 consecutive values of a row into one block:
/// - `q8_0`: f16 scale `d`, then 32 signed bytes; value = d * q.
/// - `q4_0`: f16 scale `d`, then 16 bytes; byte j holds value j in its low nibble and value j+16 in its high
///   nibble; value = d * (nibble - 8).
/// - `q4_1`: f16 scale `d`, f16 minimum `m`, then 16 bytes as in `q4_0`; value = d * nibble + m.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8

    /// Number of values per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q8_0: return 34
        }
    }

    /// The ggml name of the type (`F32`, `Q4_1`, …).
    public var name: String { Self.name(of: rawValue) }

    /// Bytes needed for `count` values (count must be a multiple of `blockSize`).
    public func byteCount(elements count: Int) -> Int { count / blockSize * blockBytes }

    /// The ggml name of any type id, including ones this engine does not support.
    public static func name(of id: UInt32) -> String {
        let names = [
            "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K",
            "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
            "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0",
        ]
        return Int(id) < names.count ? names[Int(id)] : "type \(id)"
    }
}
