import Foundation

/// The CPU compute backend: SIMD kernels spread over a persistent `ThreadPool`.
public final class CPUBackend: ComputeBackend, @unchecked Sendable {
    public let pool: ThreadPool
    /// Which matrix kernels run (tests pin this to cover both).
    var strategy = MatrixKernels.defaultStrategy
    /// Packed Q4 products in the C kernel where the CPU has it (tests turn it off to cover the Swift kernel).
    var nativeKernels = PackedKernels.nativeKernelsAvailable
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
    private var attentionScratch = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var attentionScratchCapacity = 1

    public init(threads: Int) {
        pool = ThreadPool(threads: threads)
    }

    deinit {
        for s in scores { s.deallocate() }
        for s in rowScratch { s.deallocate() }
        permuted.deallocate()
        attentionScratch.deallocate()
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
        let keys = UnsafePointer(cache.keys(layer: layer))
        let values = UnsafePointer(cache.values(layer: layer))
        let kvDimension = kvHeads * hd
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        if hd % 16 == 0 {
            attendRows(
                query: query, keys: keys, values: values, firstPosition: firstPosition, count: count, heads: heads,
                group: group, headDimension: hd, scale: scale, capacity: cache.capacity, output: output)
            return
        }
        ensureScores(capacity: cache.capacity)
        let scoreBuffers = scores
        func attendOne(_ chunk: Int, _ thread: Int) {
            let i = chunk / heads
            let h = chunk % heads
            let length = firstPosition + i + 1
            let q = query + i * heads * hd + h * hd
            let kBase = keys + (h / group) * hd
            let vBase = values + (h / group) * hd
            let s = scoreBuffers[thread]
            let out = output + i * heads * hd + h * hd
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

    /// How many runs of positions a query row's attention over `length` positions is split into: one per thread,
    /// none shorter than 16 positions. A function of the length and the pool alone, so a row is computed the same
    /// way whether it is decoded alone or in a prefill batch.
    func attentionRuns(length: Int) -> Int { min(pool.threadCount, max(1, length / 16)) }

    /// Attention when the head dimension is a multiple of 16, split by position rather than by head: a row's
    /// positions are cut into `attentionRuns` contiguous runs, each run is attended for every head (`attendRun`:
    /// the cache's rows, all heads' keys and then values side by side, read once front to back) and leaves a
    /// partial softmax per head, and the partials are merged (`mergeRuns`). Decoding one row, the runs go to the
    /// pool's threads, so the work divides evenly whatever the head count; in a prefill the rows go to the threads
    /// and each row's runs are done in turn, with the same arithmetic: a row's output does not depend on the batch
    /// it came in. (Split by head, each head's 256-byte slice of every row was read with a 768-byte stride, one
    /// `expf` per position; a decode step's attention took 17-40% of the step at 160-540 positions.)
    func attendRows(
        query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, firstPosition: Int,
        count: Int, heads: Int, group: Int, headDimension hd: Int, scale: Float, capacity: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        let kvDimension = heads / group * hd
        // Per thread: `threadCount` partials (each head's weighted values, maxima and sums, padded to 16 floats),
        // then scores for every head over the longest run.
        let partialStride = (heads * hd + 2 * heads + 15) / 16 * 16
        let scoreStride = (heads * capacity + 15) / 16 * 16
        let threadStride = pool.threadCount * partialStride + scoreStride
        let needed = pool.threadCount * threadStride
        if needed > attentionScratchCapacity {
            attentionScratch.deallocate()
            attentionScratch = .allocate(capacity: needed)
            attentionScratchCapacity = needed
        }
        let scratch = attentionScratch
        func attend(run: Int, of runs: Int, length: Int, row: Int, partials: UnsafeMutablePointer<Float>, thread: Int) {
            let runLength = (length + runs - 1) / runs
            let first = run * runLength
            Self.attendRun(
                query + row * heads * hd, keys: keys, values: values, kvDimension: kvDimension,
                positions: first..<min(length, first + runLength), heads: heads, group: group, headDimension: hd,
                scale: scale, scores: scratch + thread * threadStride + pool.threadCount * partialStride,
                partial: partials + run * partialStride)
        }
        if count == 1 {
            let length = firstPosition + 1
            let runs = attentionRuns(length: length)
            pool.parallelFor(runs) { run, thread in
                attend(run: run, of: runs, length: length, row: 0, partials: scratch, thread: thread)
            }
            Self.mergeRuns(scratch, runs: runs, stride: partialStride, heads: heads, headDimension: hd, output: output)
            return
        }
        pool.parallelFor(count) { row, thread in
            let length = firstPosition + row + 1
            let runs = attentionRuns(length: length)
            let partials = scratch + thread * threadStride
            for run in 0..<runs {
                attend(run: run, of: runs, length: length, row: row, partials: partials, thread: thread)
            }
            Self.mergeRuns(
                partials, runs: runs, stride: partialStride, heads: heads, headDimension: hd,
                output: output + row * heads * hd)
        }
    }

    /// `out_h = Σ_r e^(m_r - M) o_r / Σ_r e^(m_r - M) s_r` over the runs' partials, with `M` the largest of the
    /// runs' maxima.
    static func mergeRuns(
        _ partials: UnsafeMutablePointer<Float>, runs: Int, stride: Int, heads: Int, headDimension hd: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        for h in 0..<heads {
            var maximum = -Float.infinity
            for r in 0..<runs { maximum = max(maximum, partials[r * stride + heads * hd + h]) }
            var total: Float = 0
            let out = output + h * hd
            for d in 0..<hd { out[d] = 0 }
            for r in 0..<runs {
                let partial = partials + r * stride
                let weight = expf(partial[heads * hd + h] - maximum)
                total += weight * partial[heads * hd + heads + h]
                for d in 0..<hd { out[d] += weight * partial[h * hd + d] }
            }
            let inverse = 1 / total
            for d in 0..<hd { out[d] *= inverse }
        }
    }

    /// One run of positions for every head: `partial` receives each head's unnormalised weighted sum of values
    /// (`heads × hd`), then each head's maximum score, then each head's sum of exponentials.
    static func attendRun(
        _ query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvDimension: Int,
        positions: Range<Int>, heads: Int, group: Int, headDimension hd: Int, scale: Float,
        scores: UnsafeMutablePointer<Float>, partial: UnsafeMutablePointer<Float>
    ) {
        let n = positions.count
        let slices = hd / 16
        // Scores, row by row: every head's dot product with its key-value head's slice of the row.
        // (Heads walk their key-value head's group in nested loops: a division per position and head cost more
        // than the dot product.)
        let kvHeads = heads / group
        for (j, position) in positions.enumerated() {
            let row = keys + position * kvDimension
            for g in 0..<kvHeads {
                let k = row + g * hd
                for h in (g * group)..<((g + 1) * group) {
                    scores[h * n + j] = dot(query + h * hd, k, hd) * scale
                }
            }
        }
        // Each head's exponentials, sixteen at a time, against the run's own maximum.
        let sums = partial + heads * hd + heads
        for h in 0..<heads {
            let s = scores + h * n
            var maxima = SIMD16<Float>(repeating: -.infinity)
            var j = 0
            let rs = UnsafeMutableRawPointer(s)
            while j + 16 <= n {
                let v = rs.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self)
                maxima = maxima.replacing(with: v, where: v .> maxima)
                j += 16
            }
            var maximum = maxima.max()
            while j < n {
                maximum = max(maximum, s[j])
                j += 1
            }
            partial[heads * hd + h] = maximum
            var total = SIMD16<Float>()
            var tail: Float = 0
            j = 0
            while j + 16 <= n {
                let e = exp16(rs.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self) - maximum)
                rs.storeBytes(of: e, toByteOffset: 4 * j, as: SIMD16<Float>.self)
                total += e
                j += 16
            }
            if j < n {
                var x = SIMD16<Float>(repeating: -100)
                for l in 0..<(n - j) { x[l] = s[j + l] - maximum }
                let e = exp16(x)
                for l in 0..<(n - j) {
                    s[j + l] = e[l]
                    tail += e[l]
                }
            }
            sums[h] = horizontalSum(total) + tail
        }
        // Weighted values, head by head: four 16-wide slices of the head's sum held in registers over the run's
        // rows, which the scores pass has just brought into cache (a read-modify-write of the sums for every row
        // and head cost a fifth of the attention). Each lane adds the rows in order, as before.
        let first = positions.lowerBound
        for h in 0..<heads {
            let base = UnsafeRawPointer(values + first * kvDimension + (h / group) * hd)
            let weights = scores + h * n
            let out = UnsafeMutableRawPointer(partial + h * hd)
            var c = 0
            while c < slices {
                let width = min(4, slices - c)
                var a0 = SIMD16<Float>()
                var a1 = SIMD16<Float>()
                var a2 = SIMD16<Float>()
                var a3 = SIMD16<Float>()
                var row = base + 64 * c
                if width == 4 {
                    for j in 0..<n {
                        let w = weights[j]
                        a0 += w * row.loadUnaligned(as: SIMD16<Float>.self)
                        a1 += w * row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                        a2 += w * row.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
                        a3 += w * row.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
                        row += 4 * kvDimension
                    }
                    out.storeBytes(of: a0, toByteOffset: 64 * c, as: SIMD16<Float>.self)
                    out.storeBytes(of: a1, toByteOffset: 64 * c + 64, as: SIMD16<Float>.self)
                    out.storeBytes(of: a2, toByteOffset: 64 * c + 128, as: SIMD16<Float>.self)
                    out.storeBytes(of: a3, toByteOffset: 64 * c + 192, as: SIMD16<Float>.self)
                } else {
                    for j in 0..<n {
                        a0 += weights[j] * row.loadUnaligned(as: SIMD16<Float>.self)
                        row += 4 * kvDimension
                    }
                    out.storeBytes(of: a0, toByteOffset: 64 * c, as: SIMD16<Float>.self)
                    c += 1
                    continue
                }
                c += 4
            }
        }
    }

    public func swiglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        // Sixteen at a time with `exp16` (a libm `expf` per value was 2.5% of a decode step); e^-g is taken at
        // -|g| and inverted for negative g, since exp16 wants x <= 0.
        let chunk = 4096
        pool.parallelFor((count + chunk - 1) / chunk) { c, _ in
            var i = c * chunk
            let end = min(count, (c + 1) * chunk)
            let rg = UnsafeRawPointer(gate)
            let ru = UnsafeRawPointer(up)
            let ro = UnsafeMutableRawPointer(output)
            while i + 16 <= end {
                let g = rg.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                let negative = g .< 0
                let e = Self.exp16(g.replacing(with: -g, where: negative) * -1)
                // e^-g: e for g >= 0, 1/e for g < 0; silu(g) = g / (1 + e^-g) = g e / (e + 1) for g < 0.
                let silu = (g / (1 + e)).replacing(with: g * e / (e + 1), where: negative)
                ro.storeBytes(
                    of: silu * ru.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self), toByteOffset: 4 * i,
                    as: SIMD16<Float>.self)
                i += 16
            }
            while i < end {
                let g = gate[i]
                output[i] = g / (1 + expf(-g)) * up[i]
                i += 1
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

    /// e^x for sixteen floats, x ≤ 0 (scores minus their maximum): x = n ln 2 + r with |r| ≤ ln 2 / 2, e^r from
    /// a degree-6 polynomial (relative error about 2e-7, within a few ulp of `expf`), 2^n put into the exponent
    /// bits. Inputs below -87 give 0 or a denormal-free tiny value, as softmax needs.
    @inline(__always)
    static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let clamped = x.replacing(with: -87, where: x .< -87)
        // x / ln 2 rounded to the nearest integer by adding 1.5 · 2^23, whose last mantissa bits then hold the
        // integer (two's complement), and taking it off again. (`rounded()` and a float-to-integer conversion of
        // SIMD values compile to a loop over the lanes: they made this function 6× slower.)
        let shifted = clamped * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        // ln 2 in two parts, so n · ln 2 is subtracted without losing r's low bits.
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let er = p * (r * r) + r + 1
        let bits = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return er * unsafeBitCast(bits, to: SIMD16<Float>.self)
    }

    /// The sum of sixteen lanes as a tree (halves added four times): `SIMD.sum()` adds the lanes one after
    /// another, fifteen dependent additions, and the attention loops take one sum per position and head.
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
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
        var sum = horizontalSum(acc)
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
