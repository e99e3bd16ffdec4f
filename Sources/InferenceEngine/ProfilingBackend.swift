import Foundation

/// A `ComputeBackend` that times every call of the backend it wraps (`bench-engine --profile`). The calls are
/// synchronous (a CPU operation returns when every thread's share is done), so the time around a call is that
/// operation's wall time, its thread-pool hand-off and barrier included. Two clock reads and a pointer's hash per
/// call are the whole overhead: a decode step makes about 10 calls per layer.
public final class ProfilingBackend: ComputeBackend, @unchecked Sendable {
    /// One row of the breakdown: an operation (a matrix product names its matrices and weight type).
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var calls: Int
        public var nanoseconds: UInt64
    }

    public let wrapped: ComputeBackend
    /// Totals by slot, in first-seen order; a matrix product's slot is found by its first matrix's address, so a
    /// call costs two clock reads and one hash of a pointer (names are built once per matrix).
    private var names: [String] = []
    private var calls: [Int] = []
    private var nanoseconds: [UInt64] = []
    private var matrixSlots: [UnsafeRawPointer: Int] = [:]
    private var namedSlots: [String: Int] = [:]

    public init(wrapping backend: ComputeBackend) {
        wrapped = backend
    }

    /// What has been recorded since the last `reset`, in first-seen order.
    public var entries: [Entry] {
        names.indices.filter { calls[$0] > 0 }.map {
            Entry(name: names[$0], calls: calls[$0], nanoseconds: nanoseconds[$0])
        }
    }

    public func reset() {
        for i in calls.indices {
            calls[i] = 0
            nanoseconds[i] = 0
        }
    }

    /// `blk.3.attn_q.weight` → `attn_q`; `output.weight` → `output`.
    static func role(_ name: String) -> String {
        var parts = name.split(separator: ".")
        if parts.last == "weight" { parts.removeLast() }
        if parts.first == "blk", parts.count >= 3 { parts.removeFirst(2) }
        return parts.joined(separator: ".")
    }

    private func newSlot(_ name: String) -> Int {
        if let known = namedSlots[name] { return known }
        names.append(name)
        calls.append(0)
        nanoseconds.append(0)
        namedSlots[name] = names.count - 1
        return names.count - 1
    }

    private func slot(_ weights: [WeightMatrix]) -> Int {
        if let known = matrixSlots[weights[0].data] { return known }
        // Matrices of the same role in every layer share a slot: `matmul attn_q+attn_k+attn_v (Q4_1)`.
        let slot = newSlot(
            "matmul \(weights.map { Self.role($0.name) }.joined(separator: "+")) (\(weights[0].type.name))")
        matrixSlots[weights[0].data] = slot
        return slot
    }

    private lazy var slots = (
        norm: newSlot("rms_norm"), rope: newSlot("rope"), attention: newSlot("attention"),
        swiglu: newSlot("swiglu"), add: newSlot("residual add")
    )

    @inline(__always)
    private func timed(_ slot: Int, _ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        nanoseconds[slot] += DispatchTime.now().uptimeNanoseconds - start
        calls[slot] += 1
    }

    public func matmul(
        _ weights: WeightMatrix, input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        timed(slot([weights])) { wrapped.matmul(weights, input: input, count: count, output: output) }
    }

    public func matmul(
        _ weights: [WeightMatrix], input: UnsafePointer<Float>, count: Int, outputs: [UnsafeMutablePointer<Float>]
    ) {
        timed(slot(weights)) { wrapped.matmul(weights, input: input, count: count, outputs: outputs) }
    }

    public func rmsNorm(
        _ input: UnsafePointer<Float>, weight: [Float], count: Int, epsilon: Float, output: UnsafeMutablePointer<Float>
    ) {
        timed(slots.norm) { wrapped.rmsNorm(input, weight: weight, count: count, epsilon: epsilon, output: output) }
    }

    public func rope(
        _ data: UnsafeMutablePointer<Float>, count: Int, heads: Int, headDimension: Int, ropeDimension: Int,
        firstPosition: Int, base: Float
    ) {
        timed(slots.rope) {
            wrapped.rope(
                data, count: count, heads: heads, headDimension: headDimension, ropeDimension: ropeDimension,
                firstPosition: firstPosition, base: base)
        }
    }

    public func attention(
        query: UnsafePointer<Float>, cache: KVCache, layer: Int, firstPosition: Int, count: Int, heads: Int,
        kvHeads: Int, headDimension: Int, output: UnsafeMutablePointer<Float>
    ) {
        timed(slots.attention) {
            wrapped.attention(
                query: query, cache: cache, layer: layer, firstPosition: firstPosition, count: count, heads: heads,
                kvHeads: kvHeads, headDimension: headDimension, output: output)
        }
    }

    public func swiglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        timed(slots.swiglu) { wrapped.swiglu(gate: gate, up: up, count: count, output: output) }
    }

    public func add(_ addend: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        timed(slots.add) { wrapped.add(addend, into: target, count: count) }
    }
}
