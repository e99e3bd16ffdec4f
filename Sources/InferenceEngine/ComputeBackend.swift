/// The operations a transformer forward pass needs. The model code calls only these, so another backend (a GPU
/// one) can be added by conforming to this protocol. Buffers are host pointers to row-major F32 data, `count` rows
/// of the stated width.
public protocol ComputeBackend: AnyObject {
    /// `output[i][r] = dot(weights[r], input[i])` for `count` input rows of `weights.columns` floats; output rows are
    /// `weights.rows` wide.
    func matmul(_ weights: WeightMatrix, input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>)

    /// Several products of the same input (`count` rows) with matrices of equal width, in one pass: for example the
    /// query, key and value projections. `outputs[k]` receives the rows of `weights[k]`.
    func matmul(
        _ weights: [WeightMatrix], input: UnsafePointer<Float>, count: Int, outputs: [UnsafeMutablePointer<Float>])

    /// Root-mean-square normalisation of `count` rows of `weight.count` floats, scaled by `weight`.
    func rmsNorm(
        _ input: UnsafePointer<Float>, weight: [Float], count: Int, epsilon: Float, output: UnsafeMutablePointer<Float>)

    /// Rotary position embedding (adjacent-pair form) applied in place to `count` rows of `heads * headDimension`
    /// floats; row `i` is at position `firstPosition + i`. Only the first `ropeDimension` floats of a head rotate.
    func rope(
        _ data: UnsafeMutablePointer<Float>, count: Int, heads: Int, headDimension: Int, ropeDimension: Int,
        firstPosition: Int, base: Float)

    /// Causal grouped-query attention of `count` query rows (positions `firstPosition...`) over the cached keys and
    /// values of `layer` (positions `0 ..< firstPosition + count` must already be in the cache).
    func attention(
        query: UnsafePointer<Float>, cache: KVCache, layer: Int, firstPosition: Int, count: Int, heads: Int,
        kvHeads: Int, headDimension: Int, output: UnsafeMutablePointer<Float>)

    /// `output = silu(gate) * up`, elementwise over `count` floats.
    func swiglu(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>)

    /// `target += addend`, elementwise over `count` floats.
    func add(_ addend: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int)
}
