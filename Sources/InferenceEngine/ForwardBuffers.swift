/// Activation buffers for a forward pass over up to `capacity` positions. One per inference loop; reused across
/// calls and grown when a longer batch arrives.
public final class ForwardBuffers {
    public private(set) var capacity = 0
    private let config: ModelConfig
    var hidden: UnsafeMutablePointer<Float>
    var normed: UnsafeMutablePointer<Float>
    var query: UnsafeMutablePointer<Float>
    var key: UnsafeMutablePointer<Float>
    var value: UnsafeMutablePointer<Float>
    var attended: UnsafeMutablePointer<Float>
    var projected: UnsafeMutablePointer<Float>
    var gate: UnsafeMutablePointer<Float>
    var up: UnsafeMutablePointer<Float>
    /// Logits, `[rows][vocabularySize]`.
    var logits: UnsafeMutablePointer<Float>
    var logitsRows = 0

    public init(config: ModelConfig) {
        self.config = config
        hidden = .allocate(capacity: 1)
        normed = .allocate(capacity: 1)
        query = .allocate(capacity: 1)
        key = .allocate(capacity: 1)
        value = .allocate(capacity: 1)
        attended = .allocate(capacity: 1)
        projected = .allocate(capacity: 1)
        gate = .allocate(capacity: 1)
        up = .allocate(capacity: 1)
        logits = .allocate(capacity: config.vocabularySize)
        logitsRows = 1
    }

    deinit {
        for p in [hidden, normed, query, key, value, attended, projected, gate, up, logits] { p.deallocate() }
    }

    /// Room for `rows` rows of logits (`[rows][vocabularySize]`), for an accelerator to fill; valid until the next
    /// forward pass with these buffers.
    public func logitsStorage(rows: Int) -> UnsafeMutablePointer<Float> {
        reserve(positions: 0, logitRows: rows)
        return logits
    }

    /// Room for `rows` hidden states (`[rows][embeddingLength]`), where an accelerator leaves them when no logits
    /// were asked for.
    public func hiddenStorage(rows: Int) -> UnsafeMutablePointer<Float> {
        reserve(positions: rows, logitRows: 0)
        return hidden
    }

    func reserve(positions n: Int, logitRows: Int) {
        if n > capacity {
            for p in [hidden, normed, query, key, value, attended, projected, gate, up] { p.deallocate() }
            let e = config.embeddingLength
            hidden = .allocate(capacity: n * e)
            normed = .allocate(capacity: n * e)
            query = .allocate(capacity: n * config.queryDimension)
            key = .allocate(capacity: n * config.kvDimension)
            value = .allocate(capacity: n * config.kvDimension)
            attended = .allocate(capacity: n * config.queryDimension)
            projected = .allocate(capacity: n * e)
            gate = .allocate(capacity: n * config.feedForwardLength)
            up = .allocate(capacity: n * config.feedForwardLength)
            capacity = n
        }
        if logitRows > logitsRows {
            logits.deallocate()
            logits = .allocate(capacity: logitRows * config.vocabularySize)
            logitsRows = logitRows
        }
    }
}
