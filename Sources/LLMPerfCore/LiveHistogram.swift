/// Approximate quantiles of a stream of non-negative values in constant memory, for the live
/// progress line (the stored summary is exact: `StreamedDistributions`).
///
/// Each value is counted in a bucket of width 1/128 of its power of two (the top 7 bits of its
/// significand); a quantile is reported as the middle of the bucket holding its rank, so it is
/// within 0.4% (half a bucket, 2⁻⁸ relative) of a value of the sample at that rank (the
/// nearest-rank quantile, not interpolated). Values below 2⁻¹⁰²² and negative ones count in
/// one bucket reported as 0. Memory: one counter per occupied bucket, at most 128 per power of
/// two the values span (a few thousand for any latency).
public struct LiveHistogram: Sendable, Equatable {
    static let significandBits = 7
    private var counts: [Int: Int] = [:]
    public private(set) var count = 0

    public init() {}

    public mutating func add(_ value: Double) {
        counts[Self.bucket(of: value), default: 0] += 1
        count += 1
    }

    /// The `p` quantile (nearest rank), nil when empty.
    public func quantile(_ p: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Int((Double(count - 1) * Swift.min(1, Swift.max(0, p))).rounded())
        var below = 0
        for bucket in counts.keys.sorted() {
            let n = counts[bucket]!
            if rank < below + n { return Self.middle(of: bucket) }
            below += n
        }
        return nil
    }

    static func bucket(of value: Double) -> Int {
        guard value.isNormal, value > 0 else { return 0 }
        return Int(truncatingIfNeeded: value.bitPattern >> UInt64(52 - significandBits))
    }

    static func middle(of bucket: Int) -> Double {
        guard bucket > 0 else { return 0 }
        let low = Double(bitPattern: UInt64(bucket) << UInt64(52 - significandBits))
        let high = Double(bitPattern: UInt64(bucket + 1) << UInt64(52 - significandBits))
        return (low + high) / 2
    }
}
