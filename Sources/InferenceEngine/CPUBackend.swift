import Foundation

/// The CPU compute backend: SIMD kernels spread over a persistent `ThreadPool`.
public final class CPUBackend: ComputeBackend, @unchecked Sendable {
    public let pool: ThreadPool
    /// Which matrix kernels run (tests pin this to cover both).
    var strategy = MatrixKernels.defaultStrategy
    private var rowScratch: [UnsafeMutablePointer<Float>] = []
    private var rowScratchCapacity = 0
    private var permuted = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var permutedCapacity = 1
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
        let target = max(1, rows / (threads * (count == 1 ? 4 : 8)))
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
            let groups = packed.rowGroups
            let groupsPerChunk = max(1, groups / (threads * (count == 1 ? 4 : 8)))
            let packedChunks = (groups + groupsPerChunk - 1) / groupsPerChunk
            pool.parallelFor(packedChunks) { chunk, _ in
                let start = chunk * groupsPerChunk
                PackedKernels.multiply(
                    packed, groups: start..<min(groups, start + groupsPerChunk), input: input, blockSums: sums,
                    count: count, output: output, outputStride: rows)
            }
            return
        }
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
        var x = input
        if weights.type != .f32 {
            let needed = count * weights.columns
            if needed > permutedCapacity {
                permuted.deallocate()
                permuted = .allocate(capacity: needed)
                permutedCapacity = needed
            }
            MatrixKernels.permuteInput(
                weights.type, input: input, count: count, columns: weights.columns, into: permuted)
            x = UnsafePointer(permuted)
        }
        pool.parallelFor(chunks) { chunk, _ in
            let start = chunk * chunkRows
            let end = min(rows, start + chunkRows)
            MatrixKernels.multiply(
                weights, rows: start..<end, permutedInput: x, count: count, output: output, outputStride: rows)
        }
    }

    public func rmsNorm(
        _ input: UnsafePointer<Float>, weight: [Float], count: Int, epsilon: Float, output: UnsafeMutablePointer<Float>
    ) {
        let n = weight.count
        weight.withUnsafeBufferPointer { w in
            for i in 0..<count {
                let x = input + i * n
                let y = output + i * n
                var sum: Float = 0
                for j in 0..<n { sum += x[j] * x[j] }
                let scale = 1 / (sum / Float(n) + epsilon).squareRoot()
                for j in 0..<n { y[j] = x[j] * scale * w[j] }
            }
        }
    }

    public func rope(
        _ data: UnsafeMutablePointer<Float>, count: Int, heads: Int, headDimension: Int, ropeDimension: Int,
        firstPosition: Int, base: Float
    ) {
        let pairs = ropeDimension / 2
        var cosines = [Float](repeating: 0, count: pairs)
        var sines = [Float](repeating: 0, count: pairs)
        let width = heads * headDimension
        for i in 0..<count {
            let position = Double(firstPosition + i)
            for p in 0..<pairs {
                let angle = position * pow(Double(base), -2 * Double(p) / Double(ropeDimension))
                cosines[p] = Float(cos(angle))
                sines[p] = Float(sin(angle))
            }
            for h in 0..<heads {
                let x = data + i * width + h * headDimension
                for p in 0..<pairs {
                    let a = x[2 * p]
                    let b = x[2 * p + 1]
                    x[2 * p] = a * cosines[p] - b * sines[p]
                    x[2 * p + 1] = a * sines[p] + b * cosines[p]
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
        pool.parallelFor(count * heads) { chunk, thread in
            let i = chunk / heads
            let h = chunk % heads
            let length = firstPosition + i + 1
            let q = query + i * heads * hd + h * hd
            let kBase = keys + (h / group) * hd
            let vBase = values + (h / group) * hd
            let s = scoreBuffers[thread]
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
            let out = output + i * heads * hd + h * hd
            for d in 0..<hd { out[d] = 0 }
            let inverse = 1 / total
            for j in 0..<length {
                Self.accumulate(vBase + j * kvDimension, weight: s[j] * inverse, into: out, hd)
            }
        }
    }

    public func swiglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count {
            let g = gate[i]
            output[i] = g / (1 + expf(-g)) * up[i]
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

    @inline(__always)
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var d = 0
        var acc = SIMD16<Float>()
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        while d + 16 <= n {
            acc += ra.loadUnaligned(fromByteOffset: 4 * d, as: SIMD16<Float>.self)
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
