import Foundation

/// A `ComputeBackend` that times every call of the backend it wraps (`bench-engine --profile`). The calls are
/// synchronous (a CPU operation returns when every thread's share is done), so the time around a call is that
/// operation's wall time, its thread-pool hand-off and barrier included. Two clock reads per call (~50 ns) are
/// the whole overhead: a decode step makes about 10 calls per layer.
public final class ProfilingBackend: ComputeBackend, @unchecked Sendable {
    /// One row of the breakdown: an operation (a matrix product names its matrices and weight type).
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var calls: Int
        public var nanoseconds: UInt64
    }

    public let wrapped: ComputeBackend
    private var totals: [String: (calls: Int, nanoseconds: UInt64)] = [:]
    private var order: [String] = []
    private var names: [String: String] = [:]

    public init(wrapping backend: ComputeBackend) {
        wrapped = backend
    }

    /// What has been recorded since the last `reset`, in first-seen order.
    public var entries: [Entry] {
        order.map { Entry(name: $0, calls: totals[$0]!.calls, nanoseconds: totals[$0]!.nanoseconds) }
    }

    public func reset() {
        totals = [:]
        order = []
    }

    /// `blk.3.attn_q.weight` → `attn_q`; `output.weight` → `output`.
    static func role(_ name: String) -> String {
        var parts = name.split(separator: ".")
        if parts.last == "weight" { parts.removeLast() }
        if parts.first == "blk", parts.count >= 3 { parts.removeFirst(2) }
        return parts.joined(separator: ".")
    }

    private func label(_ weights: [WeightMatrix]) -> String {
        let key = weights.map(\.name).joined(separator: "|")
        if let known = names[key] { return known }
        let label = "matmul \(weights.map { Self.role($0.name) }.joined(separator: "+")) (\(weights[0].type.name))"
        names[key] = label
        return label
    }

    @inline(__always)
    private func timed(_ name: @autoclosure () -> String, _ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        let key = name()
        if let current = totals[key] {
            totals[key] = (current.calls + 1, current.nanoseconds + elapsed)
        } else {
            totals[key] = (1, elapsed)
            order.append(key)
        }
    }

    public func matmul(
        _ weights: WeightMatrix, input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        timed(label([weights])) { wrapped.matmul(weights, input: input, count: count, output: output) }
    }

    public func matmul(
        _ weights: [WeightMatrix], input: UnsafePointer<Float>, count: Int, outputs: [UnsafeMutablePointer<Float>]
    ) {
        timed(label(weights)) { wrapped.matmul(weights, input: input, count: count, outputs: outputs) }
    }

    public func rmsNorm(
        _ input: UnsafePointer<Float>, weight: [Float], count: Int, epsilon: Float, output: UnsafeMutablePointer<Float>
    ) {
        timed("rms_norm") { wrapped.rmsNorm(input, weight: weight, count: count, epsilon: epsilon, output: output) }
    }

    public func rope(
        _ data: UnsafeMutablePointer<Float>, count: Int, heads: Int, headDimension: Int, ropeDimension: Int,
        firstPosition: Int, base: Float
    ) {
        timed("rope") {
            wrapped.rope(
                data, count: count, heads: heads, headDimension: headDimension, ropeDimension: ropeDimension,
                firstPosition: firstPosition, base: base)
        }
    }

    public func attention(
        query: UnsafePointer<Float>, cache: KVCache, layer: Int, firstPosition: Int, count: Int, heads: Int,
        kvHeads: Int, headDimension: Int, output: UnsafeMutablePointer<Float>
    ) {
        timed("attention") {
            wrapped.attention(
                query: query, cache: cache, layer: layer, firstPosition: firstPosition, count: count, heads: heads,
                kvHeads: kvHeads, headDimension: headDimension, output: output)
        }
    }

    public func swiglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        timed("swiglu") { wrapped.swiglu(gate: gate, up: up, count: count, output: output) }
    }

    public func add(_ addend: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        timed("residual add") { wrapped.add(addend, into: target, count: count) }
    }
}
