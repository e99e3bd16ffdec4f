import InferenceEngine

/// Weight matrices in device memory, in the layout the `matmul_*` shaders read: for each row, its 32-weight
/// blocks' values (`quants`: Q8_0 32 signed bytes, Q4_0/Q4_1 the file's 16 nibble bytes, F16 32 halves, F32 32
/// floats), and apart from them each block's scale as a float (`scales`: Q8_0 and Q4_0 one, Q4_1 the scale and
/// then the minimum). Splitting the scales out keeps every block's values 4-byte aligned; the f16 scales widen to
/// float exactly, so the device computes with the file's values.
///
/// Several matrices of one type and width (the query, key and value projections; gate and up) are stacked into
/// one, so that one dispatch computes them all.
final class DeviceMatrix {
    let type: GGMLType
    let rows: Int
    let columns: Int
    let quants: VulkanBuffer
    let scales: VulkanBuffer
    let pipeline: ComputePipeline

    var quantBytesPerRow: Int { columns / 32 * Self.quantBytesPerBlock(type) }
    var scalesPerRow: Int { columns / 32 * Self.scalesPerBlock(type) }

    static func quantBytesPerBlock(_ type: GGMLType) -> Int {
        switch type {
        case .f32: return 128
        case .f16: return 64
        case .q8_0: return 32
        case .q4_0, .q4_1: return 16
        }
    }

    static func scalesPerBlock(_ type: GGMLType) -> Int {
        switch type {
        case .f32, .f16: return 0
        case .q8_0, .q4_0: return 1
        case .q4_1: return 2
        }
    }

    /// Uploads `matrices` (equal type and width) stacked in order.
    init(context: VulkanContext, stacking matrices: [WeightMatrix]) throws {
        let first = matrices[0]
        precondition(matrices.allSatisfy { $0.type == first.type && $0.columns == first.columns })
        let type = first.type
        let columns = first.columns
        let rows = matrices.reduce(0) { $0 + $1.rows }
        self.type = type
        self.columns = columns
        self.rows = rows
        pipeline = try context.pipeline("matmul_\(type.name.lowercased())", bindings: 5)
        let blocks = columns / 32
        let quantBlock = Self.quantBytesPerBlock(type)
        let scaleCount = Self.scalesPerBlock(type)
        var quantBytes = [UInt8](repeating: 0, count: rows * blocks * quantBlock)
        var scaleValues = [Float](repeating: 0, count: max(1, rows * blocks * scaleCount))
        quantBytes.withUnsafeMutableBytes { quantBuffer in
            scaleValues.withUnsafeMutableBufferPointer { scaleBuffer in
                let q = quantBuffer.baseAddress!
                let s = scaleBuffer.baseAddress!
                var row = 0
                for m in matrices {
                    switch type {
                    case .f32, .f16:
                        // Rows are stored as they are.
                        (q + row * blocks * quantBlock).copyMemory(from: m.data, byteCount: m.rows * m.rowBytes)
                    case .q8_0, .q4_0, .q4_1:
                        let header = scaleCount * 2
                        for r in 0..<m.rows {
                            let source = m.data + r * m.rowBytes
                            let block0 = (row + r) * blocks
                            for b in 0..<blocks {
                                let block = source + b * type.blockBytes
                                for k in 0..<scaleCount {
                                    s[(block0 + b) * scaleCount + k] = Half.toFloat(
                                        block.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
                                }
                                (q + (block0 + b) * quantBlock).copyMemory(from: block + header, byteCount: quantBlock)
                            }
                        }
                    }
                    row += m.rows
                }
            }
        }
        quants = try quantBytes.withUnsafeBytes { try context.deviceBuffer(bytes: $0) }
        scales = try scaleValues.withUnsafeBytes { try context.deviceBuffer(bytes: $0) }
        let limit = context.maxBindingBytes
        guard rowsPerDispatch(context) > 0 else {
            throw VulkanError.doesNotFit(
                "\(first.name): \(Self.rowGranularity(self, context)) rows of \(quantBytesPerRow) bytes exceed the "
                    + "device's binding range (\(limit) bytes)")
        }
    }

    /// Rows per dispatch so that one binding covers them: all rows when they fit, else a multiple of the rows that
    /// keep every dispatch's binding offsets aligned to the device's storage offset alignment.
    func rowsPerDispatch(_ context: VulkanContext) -> Int {
        let limit = context.maxBindingBytes
        if rows * quantBytesPerRow <= limit && rows * scalesPerRow * 4 <= limit { return rows }
        let step = Self.rowGranularity(self, context)
        return limit / quantBytesPerRow / step * step
    }

    static func rowGranularity(_ m: DeviceMatrix, _ context: VulkanContext) -> Int {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let align = max(1, context.minStorageOffsetAlignment)
        let forQuants = align / gcd(align, m.quantBytesPerRow)
        guard m.scalesPerRow > 0 else { return forQuants }
        let forScales = align / gcd(align, m.scalesPerRow * 4)
        return forQuants / gcd(forQuants, forScales) * forScales
    }

    /// What a product does to its input and output, besides the dot products.
    enum Input {
        /// The input rows as they are.
        case plain
        /// Each row's RMS norm scaled by the weights in `norm` (the model's norms are folded into the products that
        /// read them).
        case normalized(norm: VulkanBuffer, epsilon: Float)
        /// `silu(gate) * up` of each row, whose up values start `upOffset` floats after its gate values.
        case gated(upOffset: Int)
    }

    /// Records `output[outputOffset + i * outputStride + outputColumn + r] = dot(row r, x_i)` for `count` input rows
    /// (`inputStride` floats apart, from float `inputOffset` of `input`; x_i as `mode` says), added to what the
    /// output holds when `accumulate`. The rows split over several dispatches when their weights exceed one binding.
    func record(
        _ recorder: CommandRecorder, input: VulkanBuffer, inputOffset: Int = 0, inputStride: Int? = nil,
        count: Int, mode: Input = .plain, output: VulkanBuffer, outputOffset: Int = 0, outputStride: Int,
        outputColumn: Int = 0, accumulate: Bool = false
    ) {
        let step = rowsPerDispatch(recorder.context)
        var flags: UInt32 = accumulate ? 4 : 0
        var epsilon: Float = 0
        var upOffset = 0
        var norm = scales.range(offset: 0, size: min(scales.size, 16))
        switch mode {
        case .plain: break
        case .normalized(let weights, let e):
            flags |= 1
            epsilon = e
            norm = weights.whole
        case .gated(let offset):
            flags |= 2
            upOffset = offset
        }
        var first = 0
        while first < rows {
            let n = min(step, rows - first)
            let quantRange = quants.range(offset: first * quantBytesPerRow, size: n * quantBytesPerRow)
            let scaleRange =
                scalesPerRow == 0
                ? scales.range(offset: 0, size: min(scales.size, 16))
                : scales.range(offset: first * scalesPerRow * 4, size: n * scalesPerRow * 4)
            recorder.dispatch(
                pipeline, [quantRange, scaleRange, input.whole, output.whole, norm],
                [
                    UInt32(n), UInt32(columns), UInt32(count), UInt32(inputOffset), UInt32(outputOffset),
                    UInt32(outputStride), UInt32(outputColumn + first), UInt32(inputStride ?? columns), flags,
                    epsilon.bitPattern, UInt32(upOffset), UInt32(recorder.context.rowsPerWorkgroup),
                ], groups: (n + recorder.context.rowsPerWorkgroup - 1) / recorder.context.rowsPerWorkgroup)
            first += n
        }
    }
}
