import Foundation
import InferenceTestSupport
import Testing

@testable import InferenceEngine

/// The C kernels for packed Q4/Q8_0 products (CEngineKernels) against the Swift kernels and a double-precision
/// product of the decoded rows, and `exp16` against `expf`.
@Suite struct NativeKernelTests {
    /// 37 rows (the last row group padded) × 96 columns, random values, in `type`.
    func matrix(_ type: GGMLType, rows: Int = 37, columns: Int = 96, seed: UInt64 = 5) -> WeightMatrix {
        var random = TestRandom(state: seed)
        let values = random.values(rows * columns, scale: 1.5, offset: type == .q4_1 ? 0.3 : 0)
        let bytes = QuantizedBlocks.encode(values, as: type)
        let storage = WeightStorage(byteCount: bytes.count)
        storage.bytes.copyMemory(from: bytes, byteCount: bytes.count)
        var m = WeightMatrix(
            name: "m", type: type, rows: rows, columns: columns, data: UnsafeRawPointer(storage.bytes),
            owner: storage)
        m.pack()
        return m
    }

    /// `count` input rows through `PackedKernels.multiply` with the C kernel (`native`) or the Swift one.
    func products(_ m: WeightMatrix, _ input: [Float], count: Int, native: Bool) -> [Float] {
        let p = m.packed!
        var sums = [Float](repeating: 0, count: count * p.blocksPerRow)
        var output = [Float](repeating: .nan, count: count * m.rows)
        input.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { s in
                PackedKernels.blockSums(x.baseAddress!, count: count, columns: m.columns, into: s.baseAddress!)
            }
            sums.withUnsafeBufferPointer { s in
                output.withUnsafeMutableBufferPointer { out in
                    PackedKernels.multiply(
                        p, groups: 0..<p.rowGroups, input: x.baseAddress!, blockSums: s.baseAddress!, count: count,
                        output: out.baseAddress!, outputStride: m.rows, native: native)
                }
            }
        }
        return output
    }

    func exact(_ m: WeightMatrix, _ input: [Float], count: Int) -> [Double] {
        var row = [Float](repeating: 0, count: m.columns)
        var out = [Double](repeating: 0, count: count * m.rows)
        for r in 0..<m.rows {
            row.withUnsafeMutableBufferPointer { m.decodeRow(r, into: $0.baseAddress!) }
            for i in 0..<count {
                var s = 0.0
                for c in 0..<m.columns { s += Double(row[c]) * Double(input[i * m.columns + c]) }
                out[i * m.rows + r] = s
            }
        }
        return out
    }

    @Test(
        .enabled(if: PackedKernels.nativeKernelsAvailable, "the C kernels need AVX-512F, AVX-512VL and F16C"),
        arguments: [GGMLType.q4_0, .q4_1, .q8_0, .f16])
    func cKernelEqualsTheSwiftKernelAndTheExactProduct(type: GGMLType) {
        let m = matrix(type)
        var random = TestRandom(state: 9)
        let count = 7  // the 4-, 2- and 1-row paths
        let input = random.values(count * m.columns, scale: 2)
        let native = products(m, input, count: count, native: true)
        let swift = products(m, input, count: count, native: false)
        let reference = exact(m, input, count: count)
        let scale = reference.map { abs($0) }.max()!
        for k in reference.indices {
            #expect(abs(Double(native[k]) - reference[k]) <= 1e-5 * scale, "\(type.name) C kernel at \(k)")
            #expect(abs(Double(native[k]) - Double(swift[k])) <= 1e-5 * scale, "\(type.name) C vs Swift at \(k)")
        }
        // Padding rows of the last group are never written past the matrix's rows.
        #expect(native.allSatisfy { !$0.isNaN })
    }

    /// A row's products do not depend on how many rows were batched with it: batched decode equals decoding each
    /// sequence alone, to the bit.
    @Test(
        .enabled(if: PackedKernels.nativeKernelsAvailable, "the C kernels need AVX-512F, AVX-512VL and F16C"),
        arguments: [GGMLType.q4_0, .q4_1, .q8_0])  // (F16 runs a lone row in Swift: PackedKernels.multiply)
    func cKernelRowsAreIndependentOfTheBatch(type: GGMLType) {
        let m = matrix(type, seed: 11)
        var random = TestRandom(state: 13)
        let count = 7
        let input = random.values(count * m.columns, scale: 2)
        let batched = products(m, input, count: count, native: true)
        for i in 0..<count {
            let row = Array(input[(i * m.columns)..<((i + 1) * m.columns)])
            let alone = products(m, row, count: 1, native: true)
            #expect(Array(batched[(i * m.rows)..<((i + 1) * m.rows)]) == alone, "\(type.name) row \(i)")
        }
    }

    /// SiLU-gated products, sixteen at a time with exp16 plus a scalar tail, against the definition in doubles,
    /// from large negative to large positive gates.
    @Test func swigluMatchesTheDefinition() {
        let count = 1000 + 7
        let gate = (0..<count).map { Float($0 - count / 2) * 0.2 + 0.013 }
        let up = (0..<count).map { Float($0 % 17) / 4 - 2 }
        var out = [Float](repeating: .nan, count: count)
        CPUBackend(threads: 2).swiglu(gate: gate, up: up, count: count, output: &out)
        for i in 0..<count {
            let g = Double(gate[i])
            let expected = g / (1 + exp(-g)) * Double(up[i])
            #expect(
                abs(Double(out[i]) - expected) <= 1e-6 * max(1, abs(expected)), "gate \(g): \(out[i]) vs \(expected)")
        }
    }

    /// The vectorized argmax picks what one-at-a-time does: the first of equal maxima, never a NaN, 0 when
    /// nothing beats -infinity; for lengths around its 16-wide step.
    @Test(arguments: [1, 5, 16, 17, 47, 49_152])
    func argmaxEqualsTheOneAtATimeDefinition(count: Int) {
        var random = TestRandom(state: UInt64(count))
        var cases: [[Float]] = []
        for _ in 0..<20 { cases.append((0..<count).map { _ in Float(random.next() % 50) - 25 }) }  // many ties
        var special = [Float](repeating: -.infinity, count: count)
        cases.append(special)
        special[count / 2] = .nan
        cases.append(special)
        special[count - 1] = 3
        cases.append(special)
        var nans = (0..<count).map { Float($0 % 7) }
        for j in stride(from: 0, to: count, by: 3) { nans[j] = .nan }
        cases.append(nans)
        /// One logit at a time: the first that beats every one before it (NaN never does).
        func definition(_ logits: [Float]) -> Int32 {
            var best = 0
            var bestValue = -Float.infinity
            for i in logits.indices where logits[i] > bestValue {
                bestValue = logits[i]
                best = i
            }
            return Int32(best)
        }
        for logits in cases {
            let fast = Sampler.argmax(logits, count: count)
            let definition = definition(logits)
            #expect(fast == definition, "count \(count): \(fast) vs \(definition)")
        }
    }

    @Test func exp16MatchesExpf() {
        var worst: Float = 0
        var x: Float = -90
        while x <= 0 {
            let lanes = SIMD16<Float>((0..<16).map { x + Float($0) * 0.003_7 }.map { min(0, $0) })
            let e = CPUBackend.exp16(lanes)
            for l in 0..<16 {
                let expected = expf(lanes[l])
                #expect(e[l] >= 0 && e[l].isFinite, "exp(\(lanes[l])) = \(e[l])")
                if expected > 1e-30 { worst = max(worst, abs(e[l] - expected) / expected) }
            }
            x += 0.059
        }
        #expect(worst <= 5e-7, "largest relative error \(worst)")
        #expect(CPUBackend.exp16(SIMD16(repeating: 0)) == SIMD16(repeating: 1))
    }
}

/// Attention split by position into runs (over the pool's threads when decoding) and merged equals softmax
/// attention computed in doubles, for grouped heads and lengths that give one run or several, even and uneven;
/// and a row comes out the same, to the bit, in a prefill batch as decoded alone.
@Suite struct RunSplitAttentionTests {
    static let heads = 6
    static let group = 3

    struct Inputs {
        var queries: [Float]
        var keys: [Float]
        var values: [Float]
    }

    func inputs(rows: Int, length: Int, hd: Int, seed: UInt64) -> Inputs {
        var random = TestRandom(state: seed)
        let kvDimension = Self.heads / Self.group * hd
        return Inputs(
            queries: random.values(rows * Self.heads * hd, scale: 2),
            keys: random.values(length * kvDimension, scale: 2),
            values: random.values(length * kvDimension, scale: 1))
    }

    /// Rows `firstPosition ..< firstPosition + count` attending to positions `0 ... row`.
    func attend(_ x: Inputs, hd: Int, firstPosition: Int, count: Int, threads: Int, queryRow: Int = 0) -> [Float] {
        var out = [Float](repeating: .nan, count: count * Self.heads * hd)
        let backend = CPUBackend(threads: threads)
        x.queries.withUnsafeBufferPointer { q in
            backend.attendRows(
                query: q.baseAddress! + queryRow * Self.heads * hd, keys: x.keys, values: x.values,
                firstPosition: firstPosition, count: count, heads: Self.heads, group: Self.group,
                headDimension: hd, scale: 1 / Float(hd).squareRoot(),
                capacity: x.keys.count / (Self.heads / Self.group * hd),
                output: &out)
        }
        return out
    }

    /// Head dimensions 16 and 32 (one slice at a time), 64 (four held together) and 80 (four, then one).
    @Test(arguments: [1, 2, 15, 16, 17, 33, 100, 257], [16, 32, 64, 80])
    func runSplitAttentionEqualsTheDefinition(length: Int, hd: Int) {
        for threads in [1, 2, 3] {
            check(length: length, hd: hd, threads: threads)
        }
    }

    func check(length: Int, hd: Int, threads: Int) {
        let x = inputs(rows: 1, length: length, hd: hd, seed: UInt64(7 * length + threads + hd))
        let out = attend(x, hd: hd, firstPosition: length - 1, count: 1, threads: threads)
        let heads = Self.heads
        let kvDimension = heads / Self.group * hd
        let scale = 1 / Double(hd).squareRoot()
        for h in 0..<heads {
            let kv = h / Self.group * hd
            var s = (0..<length).map { j in
                (0..<hd).reduce(0.0) { $0 + Double(x.queries[h * hd + $1]) * Double(x.keys[j * kvDimension + kv + $1]) }
                    * scale
            }
            let maximum = s.max()!
            s = s.map { exp($0 - maximum) }
            let total = s.reduce(0, +)
            for d in 0..<hd {
                let expected = (0..<length).reduce(0.0) {
                    $0 + s[$1] / total * Double(x.values[$1 * kvDimension + kv + d])
                }
                #expect(
                    abs(Double(out[h * hd + d]) - expected) <= 2e-6,
                    "length \(length) hd \(hd) threads \(threads) head \(h) dimension \(d): \(out[h * hd + d]) vs \(expected)"
                )
            }
        }
    }

    @Test(arguments: [1, 2, 3], [32, 64])
    func aRowIsTheSameInAPrefillAsDecodedAlone(threads: Int, hd: Int) {
        let rows = 70
        let x = inputs(rows: rows, length: rows, hd: hd, seed: 41)
        let batched = attend(x, hd: hd, firstPosition: 0, count: rows, threads: threads)
        let width = Self.heads * hd
        for row in 0..<rows {
            let alone = attend(x, hd: hd, firstPosition: row, count: 1, threads: threads, queryRow: row)
            #expect(Array(batched[(row * width)..<((row + 1) * width)]) == alone, "row \(row), \(threads) threads")
        }
    }
}

/// Rows decoded from the packed copy (what a converted model's embedding lookups read once its own bytes are
/// discarded) equal the stored format's decoding exactly: the packed blocks keep the format's own f16 scales.
@Suite struct PackedRowDecodeTests {
    @Test(arguments: [GGMLType.q8_0, .q4_0, .f16, .q4_1])
    func packedRowsDecodeLikeTheStoredFormat(type: GGMLType) {
        let m = NativeKernelTests().matrix(type, rows: 21, columns: 64, seed: 3)
        var stored = [Float](repeating: 0, count: m.columns)
        var packed = [Float](repeating: .nan, count: m.columns)
        for r in 0..<m.rows {
            stored.withUnsafeMutableBufferPointer {
                QuantizedBlocks.decode(type, from: m.data + r * m.rowBytes, count: m.columns, into: $0.baseAddress!)
            }
            packed.withUnsafeMutableBufferPointer { m.packed!.decodeRow(r, into: $0.baseAddress!) }
            #expect(packed == stored, "\(type.name) row \(r)")
        }
    }
}
