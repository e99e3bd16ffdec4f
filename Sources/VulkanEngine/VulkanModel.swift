import Foundation
import InferenceEngine

/// A `TransformerModel`'s forward passes on a Vulkan device: the weights and every sequence's keys and values stay
/// in device memory, one command buffer runs a whole batched pass (every layer, every sequence), and only the
/// new tokens' embeddings, positions and the requested logits cross to and from the host. Sampling stays on the
/// host, so decoding, batching, speculation and the prefix cache work as on the CPU.
///
/// Attach one with `VulkanModel.attach(to:context:)` (or load through `EngineLoader`); it then runs every
/// `forward` of the model. Used from the model's one inference thread.
public final class VulkanModel: ModelAccelerator {
    public let context: VulkanContext
    public var deviceDescription: String { context.info.description }
    /// Time per kernel when true (a timestamp around every dispatch); off, only each pass's total is timed.
    public var profiling = false
    /// Device time of the passes since the last `resetTimings`, and their count.
    public private(set) var deviceNanoseconds: Double = 0
    public private(set) var passes = 0
    /// With `profiling`: device time and dispatch count per kernel since the last `resetTimings`.
    public private(set) var kernelNanoseconds: [String: (nanoseconds: Double, dispatches: Int)] = [:]
    /// Whether the device writes timestamps (else the times above stay 0).
    public var timesPasses: Bool { context.timestampPeriod != nil }

    private let config: ModelConfig
    private let tokenEmbedding: WeightMatrix
    private let layers: [Layer]
    private let outputNorm: VulkanBuffer
    private let output: DeviceMatrix
    private let kv: KVPool
    private let rope: ComputePipeline
    private let attention: ComputePipeline
    private let gather: ComputePipeline
    private var activations: Activations?
    /// `base^(-2p / ropeDimension)` for each rotated pair p, in double precision as the CPU engine computes them.
    private let ropeInverseFrequencies: [Double]
    /// Recorded passes by shape (at most `recordedPassLimit`; prefill chunks of many lengths come and go).
    private var recorded: [PassKey: RecordedCommands] = [:]
    private static let recordedPassLimit = 16
    /// Passes recorded so far (the rest reused a recording).
    private(set) var recordings = 0

    /// What a recorded pass depends on besides buffer contents.
    private struct PassKey: Hashable {
        var rows: Int
        var logitRows: [Int]
        var timestamps: VulkanContext.TimestampMode
        /// With one binding per sequence's keys: each sequence's first row, rows and slot base.
        var sequences: [[Int]]
        /// The activation buffers and the KV pool's size (its buffers change when it grows).
        var activations: ObjectIdentifier
        var slots: Int
    }

    private struct Layer {
        let attentionNorm: VulkanBuffer
        /// The query, key and value products: one stacked matrix when their types agree, else one each, with the
        /// column of the fused row where each one's output starts.
        let qkv: [(DeviceMatrix, column: Int)]
        let attentionOutput: DeviceMatrix
        let feedForwardNorm: VulkanBuffer
        let gateUp: [(DeviceMatrix, column: Int)]
        let down: DeviceMatrix
    }

    /// Device buffers of one pass, for up to `rows` positions and `logitRows` logits rows.
    private final class Activations {
        let rows: Int
        let logitRows: Int
        let hidden, qkv, attended, gateUp, gathered, logits: VulkanBuffer
        let rowInfo, ropeTable, gatherRows: VulkanBuffer
        /// Host-visible: the pass's inputs ([hidden | rowInfo | rope | gather]) and its results.
        let staging, readback: VulkanBuffer
        let stagingLayout: (rowInfo: Int, rope: Int, gather: Int)

        init(context: VulkanContext, config: ModelConfig, rows: Int, logitRows: Int) throws {
            self.rows = rows
            self.logitRows = logitRows
            let e = config.embeddingLength
            let q = config.queryDimension
            let kv = config.kvDimension
            let f = config.feedForwardLength
            let v = config.vocabularySize
            let pairs = max(1, config.ropeDimension / 2)
            func device(_ floats: Int) throws -> VulkanBuffer {
                let bytes = floats * 4
                guard bytes <= context.maxBindingBytes else {
                    throw VulkanError.doesNotFit(
                        "a pass of \(rows) positions needs a \(bytes)-byte buffer, over the device's binding range "
                            + "(\(context.maxBindingBytes) bytes): use a smaller prefill chunk or batch")
                }
                return try context.buffer(size: bytes, placement: .device)
            }
            hidden = try device(rows * e)
            qkv = try device(rows * (q + 2 * kv))
            attended = try device(rows * q)
            gateUp = try device(rows * 2 * f)
            gathered = try device(logitRows * e)
            logits = try device(logitRows * v)
            rowInfo = try device(rows * 2)
            ropeTable = try device(rows * pairs * 2)
            gatherRows = try device(logitRows)
            let layout = (
                rowInfo: rows * e * 4, rope: rows * e * 4 + rows * 8, gather: rows * e * 4 + rows * 8 + rows * pairs * 8
            )
            stagingLayout = layout
            staging = try context.buffer(size: layout.gather + logitRows * 4, placement: .upload)
            readback = try context.buffer(size: max(logitRows * v, rows * e) * 4, placement: .download)
        }
    }

    /// Copies `model`'s weights to the device (the model must have been loaded with `packWeights: false`, so that
    /// its stored bytes are readable).
    public init(model: TransformerModel, context: VulkanContext) throws {
        self.context = context
        config = model.config
        let c = config
        guard c.headDimension % 2 == 0, c.headDimension <= 256, c.headCount % c.kvHeadCount == 0 else {
            throw VulkanError.unsupported("head dimension \(c.headDimension) (the shaders take even sizes up to 256)")
        }
        failingPass = try Self.injectedFailure(getenv(Self.failPassVariable).map { String(cString: $0) })
        tokenEmbedding = model.tokenEmbedding
        ropeInverseFrequencies = (0..<(c.ropeDimension / 2)).map {
            pow(Double(c.ropeBase), -2 * Double($0) / Double(c.ropeDimension))
        }
        func vector(_ values: [Float]) throws -> VulkanBuffer {
            try values.withUnsafeBytes { try context.deviceBuffer(bytes: $0) }
        }
        /// Stacks runs of equal type; each part's output starts at its column of the fused row.
        func stacked(_ matrices: [WeightMatrix]) throws -> [(DeviceMatrix, column: Int)] {
            var parts: [(DeviceMatrix, column: Int)] = []
            var column = 0
            var run: [WeightMatrix] = []
            var runColumn = 0
            func flush() throws {
                guard !run.isEmpty else { return }
                parts.append((try DeviceMatrix(context: context, stacking: run), runColumn))
                run = []
            }
            for m in matrices {
                if let last = run.last, last.type != m.type || last.columns != m.columns { try flush() }
                if run.isEmpty { runColumn = column }
                run.append(m)
                column += m.rows
            }
            try flush()
            return parts
        }
        for m in [model.tokenEmbedding, model.output] + model.layers.flatMap(\.matrices) {
            guard !m.bytesDiscarded else {
                throw VulkanError.unsupported(
                    "\(m.name)'s stored bytes were discarded after packing: load the model with packWeights: false")
            }
        }
        layers = try model.layers.map { layer in
            Layer(
                attentionNorm: try vector(layer.attentionNorm),
                qkv: try stacked([layer.query, layer.key, layer.value]),
                attentionOutput: try DeviceMatrix(context: context, stacking: [layer.attentionOutput]),
                feedForwardNorm: try vector(layer.feedForwardNorm),
                gateUp: try stacked([layer.gate, layer.up]),
                down: try DeviceMatrix(context: context, stacking: [layer.down]))
        }
        outputNorm = try vector(model.outputNorm)
        output = try DeviceMatrix(context: context, stacking: [model.output])
        kv = try KVPool(
            context: context, layers: c.layerCount, kvDimension: c.kvDimension, positions: model.contextLength)
        rope = try context.pipeline("rope", bindings: 5)
        attention = try context.pipeline("attention", bindings: 5)
        gather = try context.pipeline("gather", bindings: 3)
    }

    /// Opens `device` and attaches a `VulkanModel` of `model` to it.
    @discardableResult
    public static func attach(to model: TransformerModel, context: VulkanContext) throws -> VulkanModel {
        let accelerator = try VulkanModel(model: model, context: context)
        model.accelerator = accelerator
        // The device holds the matrices now: their host copies go (the embedding's rows are still looked up).
        model.releaseDeviceResidentWeights()
        return accelerator
    }

    /// Prefix cache blocks copied into device memory and back out of it.
    var prefixBlockCopies: (stored: Int, restored: Int) { (kv.blocksStored, kv.blocksRestored) }

    /// Whether one binding covers every KV slot of a layer (else attention runs a dispatch per sequence).
    var keyValueBindingCoversEverySlot: Bool { kv.bindsWhole }

    public func resetTimings() {
        deviceNanoseconds = 0
        passes = 0
        kernelNanoseconds = [:]
    }

    public func forward(batch: [BatchEntry], buffers: ForwardBuffers) throws -> [UnsafePointer<Float>?] {
        passesAsked += 1
        if let failure = failNextPass {
            failNextPass = nil
            throw failure
        }
        if passesAsked == failingPass {
            throw VulkanError.call("vkQueueSubmit (injected by \(Self.failPassVariable)=\(passesAsked))", -4)
        }
        return try run(batch, buffers)
    }

    /// Tests: the next pass throws this instead of running (a device lost mid-serve).
    var failNextPass: VulkanError?
    /// Forward passes asked of this model since it was made (failed ones too).
    private var passesAsked = 0
    /// The pass (counted from 1) that `LLMPERF_VULKAN_FAIL_PASS` makes fail as a lost device; nil when unset.
    private let failingPass: Int?

    /// `LLMPERF_VULKAN_FAIL_PASS=N`: the model's Nth forward pass throws a lost device (`VK_ERROR_DEVICE_LOST`)
    /// instead of running, so what a GPU lost mid-run does to the server and the tools can be tried on any device.
    static let failPassVariable = "LLMPERF_VULKAN_FAIL_PASS"

    /// The pass `value` of `LLMPERF_VULKAN_FAIL_PASS` names (nil when unset); anything but a positive integer throws.
    static func injectedFailure(_ value: String?) throws -> Int? {
        guard let value else { return nil }
        guard let pass = Int(value.trimmingCharacters(in: .whitespaces)), pass > 0 else {
            throw VulkanError.badSetting(
                "\(failPassVariable) must be a positive integer (the forward pass to fail, from 1), got '\(value)'")
        }
        return pass
    }

    public func attach(_ cache: KVCache) {
        // A cache the device cannot hold now stays without a slot: its first pass tries again and throws.
        _ = try? slot(for: cache)
    }

    private func slot(for cache: KVCache) throws -> KVSlot {
        if let existing = cache.device as? KVSlot, existing.pool === kv { return existing }
        precondition(cache.device == nil, "a KV cache of another device")
        guard cache.capacity <= kv.positions else {
            throw VulkanError.doesNotFit(
                "a KV cache of \(cache.capacity) positions is larger than the model's context (\(kv.positions))")
        }
        let slot = KVSlot(pool: kv, slot: try kv.acquire(), cache: cache)
        cache.device = slot
        // Positions already in the cache (restored before the first pass) go to the device.
        try slot.transfer(0..<cache.count, toHost: false)
        return slot
    }

    private func run(_ batch: [BatchEntry], _ buffers: ForwardBuffers) throws -> [UnsafePointer<Float>?] {
        let c = config
        let e = c.embeddingLength
        let qDim = c.queryDimension
        let kvDim = c.kvDimension
        let qkvWidth = qDim + 2 * kvDim
        let f = c.feedForwardLength
        let v = c.vocabularySize
        let pairs = c.ropeDimension / 2
        var offsets: [Int] = []
        var n = 0
        var logitRows: [Int] = []
        for entry in batch {
            offsets.append(n)
            switch entry.logits {
            case .none: break
            case .last: logitRows.append(n + entry.tokens.count - 1)
            case .all: logitRows.append(contentsOf: n..<(n + entry.tokens.count))
            }
            n += entry.tokens.count
        }
        let slotCount = kv.slots
        let slots = try batch.map { try slot(for: $0.cache) }
        // A grown pool has new buffers: passes recorded against the old ones go.
        if kv.slots != slotCount { recorded.removeAll() }
        if activations.map({ $0.rows < n || $0.logitRows < max(1, logitRows.count) }) ?? true {
            recorded.removeAll()
            activations = nil
            activations = try Activations(
                context: context, config: c, rows: max(n, 16), logitRows: max(logitRows.count, 1))
        }
        let a = activations!

        // Inputs: embeddings, (cache base, position) per row, the rotation table, the rows whose logits are wanted.
        let staging = a.staging.mapped!
        let hidden = staging.assumingMemoryBound(to: Float.self)
        let rowInfo = (staging + a.stagingLayout.rowInfo).assumingMemoryBound(to: UInt32.self)
        let table = (staging + a.stagingLayout.rope).assumingMemoryBound(to: Float.self)
        let gatherIndex = (staging + a.stagingLayout.gather).assumingMemoryBound(to: UInt32.self)
        let inverse = ropeInverseFrequencies
        let whole = kv.bindsWhole
        for (b, entry) in batch.enumerated() {
            for (i, token) in entry.tokens.enumerated() {
                precondition(token >= 0 && Int(token) < v, "token id \(token) out of range")
                let row = offsets[b] + i
                tokenEmbedding.decodeRow(Int(token), into: hidden + row * e)
                let position = entry.cache.count + i
                rowInfo[2 * row] = UInt32(whole ? slots[b].base : 0)
                rowInfo[2 * row + 1] = UInt32(position)
                for p in 0..<pairs {
                    // The CPU engine's angles, to the bit: computed in double, then rounded.
                    let angle = Double(position) * inverse[p]
                    table[2 * (row * pairs + p)] = Float(cos(angle))
                    table[2 * (row * pairs + p) + 1] = Float(sin(angle))
                }
            }
        }
        for (j, row) in logitRows.enumerated() { gatherIndex[j] = UInt32(row) }

        // A pass of the same shape (rows, logits rows, and where each sequence's keys are bound) records the same
        // commands: only the buffers' contents differ. Recorded passes are kept and submitted again, so a decode
        // step costs no recording.
        let key = PassKey(
            rows: n, logitRows: logitRows, timestamps: profiling ? .perDispatch : .total,
            sequences: whole ? [] : batch.indices.map { [offsets[$0], batch[$0].tokens.count, slots[$0].base] },
            activations: ObjectIdentifier(a), slots: kv.slots)
        let commands: RecordedCommands
        if let cached = recorded[key] {
            commands = cached
        } else {
            commands = try context.record(timestamps: key.timestamps) { r in
                r.copy(
                    from: a.staging, to: a.hidden, regions: [(0, 0, n * e * 4)])
                r.copy(
                    from: a.staging, to: a.rowInfo, regions: [(a.stagingLayout.rowInfo, 0, n * 8)])
                r.copy(from: a.staging, to: a.ropeTable, regions: [(a.stagingLayout.rope, 0, n * max(1, pairs) * 8)])
                r.copy(from: a.staging, to: a.gatherRows, regions: [(a.stagingLayout.gather, 0, logitRows.count * 4)])
                func elementGroups(_ count: Int) -> Int { (count + 63) / 64 }
                let eps = c.normEpsilon
                /// Rows of the batch per attention-side dispatch: all at once when one binding covers every slot,
                /// else each sequence with its own slot bound.
                func perSequence(
                    _ body: (_ firstRow: Int, _ rows: Int, _ keys: BufferRange, _ values: BufferRange) -> Void,
                    layer l: Int
                ) {
                    if whole {
                        body(0, n, kv.keys[l].whole, kv.values[l].whole)
                    } else {
                        for (b, entry) in batch.enumerated() {
                            let base = slots[b].base * 4
                            body(
                                offsets[b], entry.tokens.count, kv.keys[l].range(offset: base, size: kv.slotBytes),
                                kv.values[l].range(offset: base, size: kv.slotBytes))
                        }
                    }
                }
                let scale = (1 / Float(c.headDimension).squareRoot()).bitPattern
                for (l, layer) in layers.enumerated() {
                    // The attention norm is folded into the query, key and value products.
                    for (m, column) in layer.qkv {
                        m.record(
                            r, input: a.hidden, count: n, mode: .normalized(norm: layer.attentionNorm, epsilon: eps),
                            output: a.qkv, outputStride: qkvWidth, outputColumn: column)
                    }
                    // Queries rotate in place; keys rotate on their way into the cache, with their values: one
                    // dispatch when one binding holds every sequence's keys, else the queries and then each
                    // sequence's keys.
                    func rotate(queries: Bool, keys: Bool, first: Int, rows: Int, _ k: BufferRange, _ v: BufferRange) {
                        let heads = (queries ? c.headCount : 0) + (keys ? c.kvHeadCount : 0)
                        r.dispatch(
                            rope, [a.qkv.whole, a.ropeTable.whole, a.rowInfo.whole, k, v],
                            [
                                UInt32(rows), queries ? UInt32(c.headCount) : 0, keys ? UInt32(c.kvHeadCount) : 0,
                                UInt32(c.headDimension), UInt32(pairs), UInt32(qkvWidth), UInt32(qDim),
                                UInt32(qDim + kvDim), UInt32(kvDim), UInt32(first),
                            ], groups: elementGroups(rows * heads * c.headDimension / 2))
                    }
                    if whole {
                        rotate(queries: true, keys: true, first: 0, rows: n, kv.keys[l].whole, kv.values[l].whole)
                    } else {
                        rotate(queries: true, keys: false, first: 0, rows: n, a.qkv.whole, a.qkv.whole)
                        perSequence(
                            { first, rows, keys, values in
                                rotate(queries: false, keys: true, first: first, rows: rows, keys, values)
                            }, layer: l)
                    }
                    perSequence(
                        { first, rows, keys, values in
                            r.dispatch(
                                attention, [a.qkv.whole, keys, values, a.rowInfo.whole, a.attended.whole],
                                [
                                    UInt32(rows), UInt32(c.headCount), UInt32(c.kvHeadCount), UInt32(c.headDimension),
                                    UInt32(qkvWidth), 0, UInt32(kvDim), UInt32(qDim), scale, UInt32(first),
                                ], groups: rows * c.headCount)
                        }, layer: l)
                    // Residual connections: the output projections add into the hidden state.
                    layer.attentionOutput.record(
                        r, input: a.attended, count: n, output: a.hidden, outputStride: e, accumulate: true)
                    for (m, column) in layer.gateUp {
                        m.record(
                            r, input: a.hidden, count: n, mode: .normalized(norm: layer.feedForwardNorm, epsilon: eps),
                            output: a.gateUp, outputStride: 2 * f, outputColumn: column)
                    }
                    layer.down.record(
                        r, input: a.gateUp, inputStride: 2 * f, count: n, mode: .gated(upOffset: f), output: a.hidden,
                        outputStride: e, accumulate: true)
                }
                if logitRows.isEmpty {
                    r.copy(from: a.hidden, 0, to: a.readback, 0, bytes: n * e * 4)
                } else {
                    let g = logitRows.count
                    r.dispatch(
                        gather, [a.hidden.whole, a.gatherRows.whole, a.gathered.whole], [UInt32(e), UInt32(g)],
                        groups: elementGroups(g * e))
                    output.record(
                        r, input: a.gathered, count: g, mode: .normalized(norm: outputNorm, epsilon: eps),
                        output: a.logits, outputStride: v)
                    r.copy(from: a.logits, 0, to: a.readback, 0, bytes: g * v * 4)
                }
            }
            recordings += 1
            if recorded.count >= Self.recordedPassLimit { recorded.removeAll() }
            recorded[key] = commands
        }
        if let timings = try context.run(commands) {
            deviceNanoseconds += timings.total
            for (name, ns) in timings.kernels {
                let old = kernelNanoseconds[name] ?? (0, 0)
                kernelNanoseconds[name] = (old.nanoseconds + ns, old.dispatches + 1)
            }
        }
        passes += 1

        guard !logitRows.isEmpty else {
            buffers.hiddenStorage(rows: n).update(
                from: a.readback.mapped!.assumingMemoryBound(to: Float.self), count: n * e)
            return Array(repeating: nil, count: batch.count)
        }
        let logits = buffers.logitsStorage(rows: logitRows.count)
        logits.update(from: a.readback.mapped!.assumingMemoryBound(to: Float.self), count: logitRows.count * v)
        var results: [UnsafePointer<Float>?] = []
        var gathered = 0
        for entry in batch {
            switch entry.logits {
            case .none:
                results.append(nil)
            case .last:
                results.append(UnsafePointer(logits + gathered * v))
                gathered += 1
            case .all:
                results.append(UnsafePointer(logits + gathered * v))
                gathered += entry.tokens.count
            }
        }
        return results
    }
}
