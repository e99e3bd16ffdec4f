/// Prompt-lookup drafting: proposes the tokens that followed the latest earlier occurrence of the context's last
/// n tokens, trying n = `maxN` down to `minN`. Deterministic (its proposals have a one-hot draft distribution) and
/// model-free, so it pays on text that repeats its context (quoting, summarising, editing code).
///
/// Cost: one backward scan of the context comparing at most `maxN` tokens per position, O(context × maxN) per call
/// in the worst case (no match), and it stops at the latest occurrence of the longest n-gram; a few thousand tokens
/// take microseconds, far below one forward pass, so no index is kept. Holds no state, so one instance may serve
/// every sequence.
public final class NGramDrafter: SpeculativeDrafter, Sendable {
    /// Shortest n-gram to look up (>= 1).
    public let minN: Int
    /// Longest n-gram to look up (>= `minN`).
    public let maxN: Int

    public init(minN: Int = 1, maxN: Int = 3) {
        precondition(minN >= 1 && maxN >= minN, "n-gram sizes need 1 <= minN <= maxN")
        self.minN = minN
        self.maxN = maxN
    }

    /// Up to `k` tokens that followed the latest earlier occurrence of the last n tokens of `context`, for the
    /// largest n in `minN...maxN` that occurs earlier; fewer when the context ends first; empty when nothing matches.
    /// An occurrence is earlier when it ends before the context's last token (it may overlap the last n tokens).
    public func draft(context: [Int32], k: Int) -> [Int32] {
        let count = context.count
        let longest = min(maxN, count - 1)
        guard k > 0, longest >= minN else { return [] }
        return context.withUnsafeBufferPointer { c in
            // latestEnd[n]: end index of the latest earlier occurrence of the last n tokens.
            var latestEnd = [Int](repeating: -1, count: longest + 1)
            var found = 0
            var end = count - 2
            while end >= 0 && found < longest {
                var length = 0
                while length < longest && length <= end && c[end - length] == c[count - 1 - length] { length += 1 }
                while found < length {
                    found += 1
                    latestEnd[found] = end
                }
                end -= 1
            }
            guard found >= minN else { return [] }
            let start = latestEnd[found] + 1
            return Array(c[start..<min(count, start + k)])
        }
    }

    /// `SpeculativeDrafter`: `draft(context:k:)`, deterministic (no probabilities); `sampling` is not used.
    public func propose(context: [Int32], count: Int, sampling: SamplingParameters) -> SpeculativeDraft {
        SpeculativeDraft(tokens: draft(context: context, k: count))
    }
}
