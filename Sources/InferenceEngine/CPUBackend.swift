import Foundation

/// The CPU compute backend: SIMD kernels spread over a persistent `ThreadPool`.
public final class CPUBackend: ComputeBackend, @unchecked Sendable {
    public let pool: ThreadPool
    /// Which matrix kernels run (tests pin this to cover both).
    var strategy = MatrixKernels.defaultStrategy
    /// Packed Q4 products in the C kernel where the CPU has it (tests turn it off to cover the Swift kernel).
    var nativeKernels = PackedKernels.nativeQ4Available
    private var rowScratch: [UnsafeMutablePointer<Float>] = []
    private var rowScratchCapacity = 0
    private var permuted = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var permutedCapacity = 1
    private struct RopeKey: Equatable {
        var first: Int
        var count: Int
        var dimension: Int
        var base: Float
    }
    private var ropeKey: RopeKey?
    private var ropeCosines: [Float] = []
    private var ropeSines: [Float] = []
    private var scores: [UnsafeMutablePointer<Float>] = []
    private var scoresCapacity = 0

    public init(threads: Int) {
        pool = ThreadPool(threads: threads)
    }

    deinit {
        for s in scores { s.deallocate() }
        for s in rowScratch { s.deallocate() }
        permuted.deallocate()
    }

    public func matmul(
        _ weights: WeightMatrix, input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        let rows = weights.rows
        let threads = pool.threadCount
        let target = max(1, rows / (threads * (count == 1 ? 1 : 8)))
        let chunkRows = max(4, min(rows, (target + 3) / 4 * 4))
        let chunks = (rows + chunkRows - 1) / chunkRows
        if strategy == .simd, let packed = weights.packed {
            let blocks = weights.columns / 32
            let needed = count * blocks
            if needed > permutedCapacity {
                permuted.deallocate()
                permuted = .allocate(capacity: needed)
                permutedCapacity = needed
            }
            let sums = UnsafePointer(permuted)
            PackedKernels.blockSums(input, count: count, columns: weights.columns, into: permuted)
            let native = nativeKernels
            let groups = packed.rowGroups
            let groupsPerChunk = max(1, groups / (threads * (count == 1 ? 1 : 8)))
            let packedChunks = (groups + groupsPerChunk - 1) / groupsPerChunk
            pool.parallelFor(packedChunks) { chunk, _ in
                let start = chunk * groupsPerChunk
                PackedKernels.multiply(
                    packed, groups: start..<min(groups, start + groupsPerChunk), input: input, blockSums: sums,
                    count: count, output: output, outputStride: rows, native: native)
            }
            return
        }
        precondition(!weights.bytesDiscarded, "\(weights.name): only its packed copy is kept; use the SIMD strategy")
        if strategy == .scalar || !MatrixKernels.supportsSIMD(weights) {
            if weights.columns > rowScratchCapacity {
                for s in rowScratch { s.deallocate() }
                rowScratch = (0..<threads).map { _ in .allocate(capacity: weights.columns) }
                rowScratchCapacity = weights.columns
            }
            let scratch = rowScratch
            pool.parallelFor(chunks) { chunk, thread in
                let start = chunk * chunkRows
                MatrixKernels.multiplyScalar(
                    weights, rows: start..<min(rows, start + chunkRows), input: input, inputStride: weights.columns,
                    count: count, output: output, outputStride: rows, scratch: scratch[thread])
            }
            return
        }
        if weights.type == .f32 {
            pool.parallelFor(chunks) { chunk, _ in
                let start = chunk * chunkRows
                F32Kernels.multiply(
                    weights, rows: start..<min(rows, start + chunkRows), input: input, count: count, output: output,
                    outputStride: rows)
            }
            return
        }
        // Unpacked quantized or F16 weights: the input is shuffled into the order the block decoders produce.
        let needed = count * weights.columns
        if needed > permutedCapacity {
            permuted.deallocate()
            permuted = .allocate(capacity: needed)
            permutedCapacity = needed
        }
        MatrixKernels.permuteInput(weights.type, input: input, count: count, columns: weights.columns, into: permuted)
        let x = UnsafePointer(permuted)
        pool.parallelFor(chunks) { chunk, _ in
            let start = chunk * chunkRows
            let end = min(rows, start + chunkRows)
            MatrixKernels.multiply(
                weights, rows: start..<end, permutedInput: x, count: count, output: output, outputStride: rows)
        }
    }

    public func matmul(
        _ weights: [WeightMatrix], input: UnsafePointer<Float>, count: Int, outputs: [UnsafeMutablePointer<Float>]
    ) {
        precondition(weights.count == outputs.count)
        let columns = weights[0].columns
        guard strategy == .simd, weights.allSatisfy({ $0.packed != nil && $0.columns == columns }) else {
            for (w, out) in zip(weights, outputs) { matmul(w, input: input, count: count, output: out) }
            return
        }
        let needed = count * (columns / 32)
        if needed > permutedCapacity {
            permuted.deallocate()
            permuted = .allocate(capacity: needed)
            permutedCapacity = needed
        }
        let sums = UnsafePointer(permuted)
        PackedKernels.blockSums(input, count: count, columns: columns, into: permuted)
        let totalGroups = weights.reduce(0) { $0 + $1.packed!.rowGroups }
        let groupsPerChunk = max(1, totalGroups / (pool.threadCount * (count == 1 ? 1 : 8)))
        // (matrix, first group, end group) per chunk; chunks never straddle two matrices.
        var chunks: [(Int, Int, Int)] = []
        for (m, w) in weights.enumerated() {
            let groups = w.packed!.rowGroups
            var start = 0
            while start < groups {
                chunks.append((m, start, min(groups, start + groupsPerChunk)))
                start += groupsPerChunk
            }
        }
        let packed = weights.map { $0.packed! }
        let rows = weights.map(\.rows)
        let native = nativeKernels
        chunks.withUnsafeBufferPointer { list in
            pool.parallelFor(list.count) { chunk, _ in
                let (m, start, end) = list[chunk]
                PackedKernels.multiply(
                    packed[m], groups: start..<end, input: input, blockSums: sums, count: count, output: outputs[m],
                    outputStride: rows[m], native: native)
            }
        }
    }

    public func rmsNorm(
        _ input: UnsafePointer<Float>, weight: [Float], count: Int, epsilon: Float, output: UnsafeMutablePointer<Float>
    ) {
        let n = weight.count
        weight.withUnsafeBufferPointer { w in
            let wp = w.baseAddress!
            let body = { (i: Int) in
                let x = input + i * n
                let y = output + i * n
                var sum: Float = 0
                for j in 0..<n { sum += x[j] * x[j] }
                let scale = 1 / (sum / Float(n) + epsilon).squareRoot()
                for j in 0..<n { y[j] = x[j] * scale * wp[j] }
            }
            if count < 8 {
                for i in 0..<count { body(i) }
            } else {
                pool.parallelFor(count) { i, _ in body(i) }
            }
        }
    }

    public func rope(
        _ data: UnsafeMutablePointer<Float>, count: Int, heads: Int, headDimension: Int, ropeDimension: Int,
        firstPosition: Int, base: Float
    ) {
        let pairs = ropeDimension / 2
        let width = heads * headDimension
        let key = RopeKey(first: firstPosition, count: count, dimension: ropeDimension, base: base)
        if ropeKey != key {
            // Queries and keys of every layer share the angles: computed once per batch of positions.
            let inverse = (0..<pairs).map { pow(Double(base), -2 * Double($0) / Double(ropeDimension)) }
            ropeCosines = []
            ropeSines = []
            for i in 0..<count {
                for p in 0..<pairs {
                    let angle = Double(firstPosition + i) * inverse[p]
                    ropeCosines.append(Float(cos(angle)))
                    ropeSines.append(Float(sin(angle)))
                }
            }
            ropeKey = key
        }
        for i in 0..<count {
            let o = i * pairs
            for h in 0..<heads {
                let x = data + i * width + h * headDimension
                for p in 0..<pairs {
                    let a = x[2 * p]
                    let b = x[2 * p + 1]
                    let c = ropeCosines[o + p]
                    let s = ropeSines[o + p]
                    x[2 * p] = a * c - b * s
                    x[2 * p + 1] = a * s + b * c
                }
            }
        }
    }

    public func attention(
        query: UnsafePointer<Float>, cache: KVCache, layer: Int, firstPosition: Int, count: Int, heads: Int,
        kvHeads: Int, headDimension hd: Int, output: UnsafeMutablePointer<Float>
    ) {
        ensureScores(capacity: cache.capacity)
        let keys = UnsafePointer(cache.keys(layer: layer))
        let values = UnsafePointer(cache.values(layer: layer))
        let kvDimension = kvHeads * hd
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        let scoreBuffers = scores
        let vectorized = hd % 16 == 0
        func attendOne(_ chunk: Int, _ thread: Int) {
            let i = chunk / heads
            let h = chunk % heads
            let length = firstPosition + i + 1
            let q = query + i * heads * hd + h * hd
            let kBase = keys + (h / group) * hd
            let vBase = values + (h / group) * hd
            let s = scoreBuffers[thread]
            let out = output + i * heads * hd + h * hd
            if vectorized {
                Self.attendVectorized(
                    q, keys: kBase, values: vBase, stride: kvDimension, length: length, headDimension: hd,
                    scale: scale, scores: s, output: out)
                return
            }
            var maximum = -Float.infinity
            for j in 0..<length {
                let score = Self.dot(q, kBase + j * kvDimension, hd) * scale
                s[j] = score
                maximum = max(maximum, score)
            }
            var total: Float = 0
            for j in 0..<length {
                let e = expf(s[j] - maximum)
                s[j] = e
                total += e
            }
            for d in 0..<hd { out[d] = 0 }
            let inverse = 1 / total
            for j in 0..<length {
                Self.accumulate(vBase + j * kvDimension, weight: s[j] * inverse, into: out, hd)
            }
        }
        // Decode: one contiguous run of heads per thread (fewer hand-offs); prefill: smaller runs, since later
        // positions attend to more keys.
        let pairs = count * heads
        let runs = min(pairs, pool.threadCount * (count == 1 ? 1 : 8))
        pool.parallelFor(runs) { run, thread in
            for chunk in (run * pairs / runs)..<((run + 1) * pairs / runs) {
                attendOne(chunk, thread)
            }
        }
    }

    public func swiglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        let chunk = 4096
        pool.parallelFor((count + chunk - 1) / chunk) { c, _ in
            for i in (c * chunk)..<min(count, (c + 1) * chunk) {
                let g = gate[i]
                output[i] = g / (1 + expf(-g)) * up[i]
            }
        }
    }

    public func add(_ addend: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { target[i] += addend[i] }
    }

    private func ensureScores(capacity: Int) {
        if capacity <= scoresCapacity { return }
        for s in scores { s.deallocate() }
        scores = (0..<pool.threadCount).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: capacity) }
        scoresCapacity = capacity
    }

    /// One head's attention when the head dimension is a multiple of 16. Four keys' scores are computed at once
    /// (four independent chains), the exponentials sixteen at a time (`exp16`), and the weighted sum of values runs
    /// one 16-wide slice of the head at a time, its four partial sums held in registers over all positions: the
    /// profile showed the one-key-at-a-time loop, a libm `expf` per key and a read-modify-write of the output per
    /// key costing 12-18% of a decode step.
    static func attendVectorized(
        _ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
        length: Int, headDimension hd: Int, scale: Float, scores s: UnsafeMutablePointer<Float>,
        output out: UnsafeMutablePointer<Float>
    ) {
        let rq = UnsafeRawPointer(q)
        let slices = hd / 16
        @inline(__always) func slice(_ p: UnsafePointer<Float>, _ c: Int) -> SIMD16<Float> {
            UnsafeRawPointer(p).loadUnaligned(fromByteOffset: 64 * c, as: SIMD16<Float>.self)
        }
        var j = 0
        var maximum = -Float.infinity
        while j + 4 <= length {
            var a0 = SIMD16<Float>()
            var a1 = SIMD16<Float>()
            var a2 = SIMD16<Float>()
            var a3 = SIMD16<Float>()
            let k0 = keys + j * stride
            for c in 0..<slices {
                let x = rq.loadUnaligned(fromByteOffset: 64 * c, as: SIMD16<Float>.self)
                a0 += x * slice(k0, c)
                a1 += x * slice(k0 + stride, c)
                a2 += x * slice(k0 + 2 * stride, c)
                a3 += x * slice(k0 + 3 * stride, c)
            }
            s[j] = a0.sum() * scale
            s[j + 1] = a1.sum() * scale
            s[j + 2] = a2.sum() * scale
            s[j + 3] = a3.sum() * scale
            maximum = max(maximum, max(max(s[j], s[j + 1]), max(s[j + 2], s[j + 3])))
            j += 4
        }
        while j < length {
            var a0 = SIMD16<Float>()
            for c in 0..<slices {
                a0 += rq.loadUnaligned(fromByteOffset: 64 * c, as: SIMD16<Float>.self) * slice(keys + j * stride, c)
            }
            s[j] = a0.sum() * scale
            maximum = max(maximum, s[j])
            j += 1
        }
        // Exponentials sixteen at a time; the tail of the last vector is masked out of the total.
        var total = SIMD16<Float>()
        j = 0
        let rs = UnsafeMutableRawPointer(s)
        while j + 16 <= length {
            let e = exp16(rs.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self) - maximum)
            rs.storeBytes(of: e, toByteOffset: 4 * j, as: SIMD16<Float>.self)
            total += e
            j += 16
        }
        var tailSum: Float = 0
        if j < length {
            var x = SIMD16<Float>(repeating: -100)
            for l in 0..<(length - j) { x[l] = s[j + l] - maximum }
            let e = exp16(x)
            for l in 0..<(length - j) {
                s[j + l] = e[l]
                tailSum += e[l]
            }
        }
        let inverse = 1 / (total.sum() + tailSum)
        for c in 0..<slices {
            var a0 = SIMD16<Float>()
            var a1 = SIMD16<Float>()
            var a2 = SIMD16<Float>()
            var a3 = SIMD16<Float>()
            var v = values
            j = 0
            while j + 4 <= length {
                a0 += s[j] * slice(v, c)
                a1 += s[j + 1] * slice(v + stride, c)
                a2 += s[j + 2] * slice(v + 2 * stride, c)
                a3 += s[j + 3] * slice(v + 3 * stride, c)
                v += 4 * stride
                j += 4
            }
            while j < length {
                a0 += s[j] * slice(v, c)
                v += stride
                j += 1
            }
            UnsafeMutableRawPointer(out).storeBytes(
                of: ((a0 + a1) + (a2 + a3)) * inverse, toByteOffset: 64 * c, as: SIMD16<Float>.self)
        }
    }

    /// e^x for sixteen floats, x ≤ 0 (scores minus their maximum): x = n ln 2 + r with |r| ≤ ln 2 / 2, e^r from
    /// a degree-6 polynomial (relative error about 2e-7, within a few ulp of `expf`), 2^n put into the exponent
    /// bits. Inputs below -87 give 0 or a denormal-free tiny value, as softmax needs.
    @inline(__always)
    static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let clamped = x.replacing(with: -87, where: x .< -87)
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        // ln 2 in two parts, so n · ln 2 is subtracted without losing r's low bits.
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let er = p * (r * r) + r + 1
        let bits = (SIMD16<Int32>(n) &+ 127) &<< 23
        return er * unsafeBitCast(bits, to: SIMD16<Float>.self)
    }

    @inline(__always)
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var d = 0
        var acc = SIMD16<Float>()
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        while d + 16 <= n {
            acc +=
                ra.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self)
            d += 16
        }
        var sum = acc.sum()
        while d < n {
            sum += a[d] * b[d]
            d += 1
        }
        return sum
    }

    @inline(__always)
    private static func accumulate(
        _ v: UnsafePointer<Float>, weight: Float, into out: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        var d = 0
        let rv = UnsafeRawPointer(v)
        let ro = UnsafeMutableRawPointer(out)
        while d + 16 <= n {
            let current = ro.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self)
            ro.storeBytes(
                of: current + weight * rv.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self),
                toByteOffset: 4 * d, as: SIMD16<Float>.self)
            d += 16
        }
        while d < n {
            out[d] += weight * v[d]
            d += 1
        }
    }
}
