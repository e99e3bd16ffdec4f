/// The arithmetic every embedding shares: unit length, and truncation to fewer dimensions.
public enum EmbeddingVector {
    /// `vector` scaled to unit L2 length (all zeros stays all zeros).
    public static func unitLength(_ vector: [Double]) -> [Float] {
        var squares = 0.0
        for value in vector { squares += value * value }
        let norm = squares.squareRoot()
        guard norm > 0 else { return vector.map { Float($0) } }
        return vector.map { Float($0 / norm) }
    }

    /// The first `dimensions` values of `vector`, scaled back to unit length (OpenAI's `dimensions`: shortening
    /// an embedding keeps its leading values and re-normalises them).
    public static func truncated(_ vector: [Float], to dimensions: Int) -> [Float] {
        precondition(dimensions >= 1, "an embedding keeps at least one dimension")
        guard dimensions < vector.count else { return vector }
        return unitLength(vector.prefix(dimensions).map { Double($0) })
    }
}
