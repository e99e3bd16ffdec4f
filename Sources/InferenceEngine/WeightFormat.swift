#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The storage format of a model's weight matrices, chosen at load time (`--weights`).
///
/// `native` keeps the file's formats and reads the matrices straight from the mapping. Any other format converts
/// every weight matrix (the token embedding, the output matrix and all layer matrices; norm vectors stay F32) at
/// load time into memory owned by the model, exactly as if the file had been quantized to that format with
/// `QuantizedBlocks.encode` from the file's decoded values. Converting is lossless only towards a format that holds
/// the source's values exactly (F32 always; F16 from F16 and Q4/Q8 sources whose values fit).
public enum WeightFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case native
    case f32
    case f16
    case q8_0
    case q4_0

    /// Parses a command-line value: a case name, case-insensitively, with `-` accepted for `_` (`Q8_0`, `q8-0`).
    public init?(argument: String) {
        self.init(rawValue: argument.lowercased().replacingOccurrences(of: "-", with: "_"))
    }

    /// The element type matrices are converted to; `nil` for `native`.
    public var type: GGMLType? {
        switch self {
        case .native: return nil
        case .f32: return .f32
        case .f16: return .f16
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        }
    }

    public var description: String { rawValue }

    /// The accepted values, for help texts: `native|f32|f16|q8_0|q4_0`.
    public static var argumentList: String { allCases.map(\.rawValue).joined(separator: "|") }
}

/// Memory owned by a converted `WeightMatrix` (its `owner`); freed with the last matrix that refers to it.
final class WeightStorage: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int
    /// The pages were given back (`discard`): the bytes read as zeros and must not be used.
    private(set) var isDiscarded = false

    /// Gives the memory's whole pages back to the system while keeping the allocation: once a matrix is packed,
    /// the packed copy is the only one the model reads (`WeightMatrix.decodeRow` then decodes from it), so the
    /// converted bytes would only double the weights' memory.
    func discard() {
        isDiscarded = true
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: bytes) + page - 1) / page * page
        let end = (Int(bitPattern: bytes) + byteCount) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    init(byteCount: Int) {
        self.byteCount = byteCount
        bytes = .allocate(byteCount: max(1, byteCount), alignment: 64)
    }

    deinit { bytes.deallocate() }
}

extension WeightMatrix {
    /// The same matrix stored as `type`: each row is decoded and re-encoded with the rules of
    /// `QuantizedBlocks.encode` (same bytes), into new storage the result owns. Returns `self` when the matrix is
    /// already of that type. Rows are spread over `pool` (or converted on the calling thread when it is `nil`).
    func converted(to type: GGMLType, pool: ThreadPool? = nil) -> WeightMatrix {
        if type == self.type { return self }
        let targetRowBytes = type.byteCount(elements: columns)
        let storage = WeightStorage(byteCount: rows * targetRowBytes)
        let threads = pool?.threadCount ?? 1
        let columns = columns
        let sourceType = self.type
        let sourceRowBytes = rowBytes
        let source = data
        let destination = storage.bytes
        let rowCount = rows
        // A few chunks per thread, so a thread kept off the CPU does not hold the others up.
        let chunks = max(1, min(rowCount, threads * 8))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: threads * columns)
        defer { scratch.deallocate() }
        let body = { (chunk: Int, thread: Int) in
            let values = scratch + thread * columns
            var r = chunk * rowCount / chunks
            let end = (chunk + 1) * rowCount / chunks
            while r < end {
                let out = destination + r * targetRowBytes
                if type == .f32 {
                    QuantizedBlocks.decode(
                        sourceType, from: source + r * sourceRowBytes, count: columns,
                        into: out.assumingMemoryBound(to: Float.self))
                } else {
                    QuantizedBlocks.decode(sourceType, from: source + r * sourceRowBytes, count: columns, into: values)
                    QuantizedBlocks.encode(values, count: columns, as: type, into: out)
                }
                r += 1
            }
        }
        if let pool, chunks > 1 {
            pool.parallelFor(chunks, body)
        } else {
            for c in 0..<chunks { body(c, 0) }
        }
        return WeightMatrix(
            name: name, type: type, rows: rows, columns: columns, data: UnsafeRawPointer(destination), owner: storage)
    }
}

extension QuantizedBlocks {
    /// Encodes `count` values (a multiple of the block size) as `type` into `destination`
    /// (`type.byteCount(elements: count)` bytes), producing exactly the bytes of `encode(_:as:)`, without
    /// allocating. Used to convert weights at load time.
    static func encode(
        _ values: UnsafePointer<Float>, count: Int, as type: GGMLType, into destination: UnsafeMutableRawPointer
    ) {
        let out = destination.assumingMemoryBound(to: UInt8.self)
        @inline(__always) func storeHalf(_ v: Float, at offset: Int) {
            let h = Half.fromFloat(v)
            out[offset] = UInt8(h & 0xff)
            out[offset + 1] = UInt8(h >> 8)
        }
        // `while` loops, as in `decode`: unoptimised builds (the tests) run them much faster.
        switch type {
        case .f32:
            var i = 0
            while i < count {
                destination.storeBytes(of: values[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                i += 1
            }
        case .f16:
            var i = 0
            while i < count {
                storeHalf(values[i], at: 2 * i)
                i += 1
            }
        case .q8_0:
            var b = 0
            while b < count / 32 {
                let block = values + 32 * b
                let o = 34 * b
                // The maximum as `Sequence.max()` finds it: the first element, replaced by any larger one.
                var amax = abs(block[0])
                var j = 1
                while j < 32 {
                    let a = abs(block[j])
                    if amax < a { amax = a }
                    j += 1
                }
                let d = amax / 127
                let inverse = d == 0 ? 0 : 1 / d
                storeHalf(d, at: o)
                j = 0
                while j < 32 {
                    out[o + 2 + j] = UInt8(bitPattern: Int8((block[j] * inverse).rounded()))
                    j += 1
                }
                b += 1
            }
        case .q4_0:
            var b = 0
            while b < count / 32 {
                let block = values + 32 * b
                let o = 18 * b
                var signedMax: Float = 0
                var j = 0
                while j < 32 {
                    if abs(block[j]) > abs(signedMax) { signedMax = block[j] }
                    j += 1
                }
                let d = signedMax / -8
                let inverse = d == 0 ? 0 : 1 / d
                storeHalf(d, at: o)
                @inline(__always) func q(_ v: Float) -> UInt8 {
                    UInt8(min(15, max(0, Int((v * inverse + 8.5).rounded(.down)))))
                }
                j = 0
                while j < 16 {
                    out[o + 2 + j] = q(block[j]) | q(block[j + 16]) << 4
                    j += 1
                }
                b += 1
            }
        case .q4_1:
            var b = 0
            while b < count / 32 {
                let block = values + 32 * b
                let o = 20 * b
                // `Sequence.min()` / `max()`: the first element, replaced by any smaller (larger) one.
                var lo = block[0]
                var hi = block[0]
                var j = 1
                while j < 32 {
                    if block[j] < lo { lo = block[j] }
                    if hi < block[j] { hi = block[j] }
                    j += 1
                }
                let d = (hi - lo) / 15
                let inverse = d == 0 ? 0 : 1 / d
                storeHalf(d, at: o)
                storeHalf(lo, at: o + 2)
                @inline(__always) func q(_ v: Float) -> UInt8 {
                    UInt8(min(15, max(0, Int(((v - lo) * inverse + 0.5).rounded(.down)))))
                }
                j = 0
                while j < 16 {
                    out[o + 4 + j] = q(block[j]) | q(block[j + 16]) << 4
                    j += 1
                }
                b += 1
            }
        }
    }
}
