import Foundation

/// The two-sided Mann-Whitney U test (Wilcoxon rank-sum) of two independent samples.
///
/// - `u1` is the first sample's statistic: the number of pairs (x, y) with x > y, ties
///   counted one half (= R₁ − n₁(n₁+1)/2 from the rank sum R₁, ties given their mid-rank);
///   `u2 = n₁n₂ − u1`.
/// - **Exact** p-value when both samples have at most `exactLimit` (20) values and there are
///   no ties: the null distribution of U is built by dynamic programming over the
///   arrangements of the two samples (probabilities, not counts, so nothing overflows), and
///   p = min(1, 2·P(U ≥ max(u1, u2))).
/// - **Normal approximation** otherwise: z = (max(u1, u2) − n₁n₂/2 − ½) / σ with the
///   continuity correction ½ and the tie-corrected σ² = n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))),
///   p = min(1, 2·P(Z ≥ z)). When every value is tied (σ = 0) p is 1.
/// These match scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="exact" /
/// "asymptotic", use_continuity=True).
public struct MannWhitneyU: Sendable, Equatable, Codable {
    public enum Method: String, Sendable, Equatable, Codable {
        case exact
        case asymptotic
    }

    /// Both samples at most this large, and no ties: exact p-value (under `automatic`).
    public static let exactLimit = 20
    /// An explicit `.exact` request is honoured only up to n₁·n₂ ≤ this (the DP costs about
    /// (n₁n₂)²/4 steps); larger samples fall back to the normal approximation.
    public static let exactProductLimit = 10_000

    public var n1: Int
    public var n2: Int
    public var u1: Double
    public var u2: Double
    /// The normal approximation's z (continuity-corrected, ≥ −0.5/σ); nil for the exact method.
    public var z: Double?
    public var pValue: Double
    /// The method that produced `pValue`.
    public var method: Method
    /// True when some value occurs more than once across both samples.
    public var hasTies: Bool

    /// P(X > Y) + ½·P(X = Y) for X from the first sample and Y from the second: u1/(n₁n₂).
    /// 0.5 means neither tends to be larger.
    public var commonLanguageEffectSize: Double { u1 / (Double(n1) * Double(n2)) }
    /// Rank-biserial correlation (u1 − u2)/(n₁n₂) in [−1, 1]: positive when the first sample
    /// tends to be larger.
    public var rankBiserial: Double { (u1 - u2) / (Double(n1) * Double(n2)) }

    /// The test on two samples in any order. Nil when either is empty. `method` nil chooses:
    /// exact for small samples without ties, the normal approximation otherwise.
    public static func test(_ x: [Double], _ y: [Double], method: Method? = nil) -> MannWhitneyU? {
        test(sortedX: x.sorted(), sortedY: y.sorted(), method: method)
    }

    /// The test on two ascending samples (ranks come from one merge, no sort).
    public static func test(sortedX x: [Double], sortedY y: [Double], method: Method? = nil) -> MannWhitneyU? {
        guard !x.isEmpty, !y.isEmpty else { return nil }
        let n1 = x.count
        let n2 = y.count
        let n = Double(n1 + n2)
        var rankSumX = 0.0
        var tieTerm = 0.0
        var i = 0
        var j = 0
        var nextRank = 1.0
        while i < n1 || j < n2 {
            let value = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j]
            var inX = 0
            var inY = 0
            while i < n1 && x[i] == value {
                inX += 1
                i += 1
            }
            while j < n2 && y[j] == value {
                inY += 1
                j += 1
            }
            let t = Double(inX + inY)
            let midRank = nextRank + (t - 1) / 2
            rankSumX += Double(inX) * midRank
            if t > 1 { tieTerm += t * t * t - t }
            nextRank += t
        }
        let product = Double(n1) * Double(n2)
        let u1 = rankSumX - Double(n1) * Double(n1 + 1) / 2
        let u2 = product - u1
        let hasTies = tieTerm > 0
        let big = max(u1, u2)

        let useExact: Bool
        switch method {
        case nil: useExact = !hasTies && n1 <= exactLimit && n2 <= exactLimit
        case .exact: useExact = !hasTies && n1 * n2 <= exactProductLimit
        case .asymptotic: useExact = false
        }
        if useExact {
            let p = min(1, 2 * exactUpperTail(Int(big.rounded()), n1, n2))
            return MannWhitneyU(
                n1: n1, n2: n2, u1: u1, u2: u2, z: nil, pValue: p, method: .exact, hasTies: false)
        }
        let variance = product / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else {
            return MannWhitneyU(
                n1: n1, n2: n2, u1: u1, u2: u2, z: 0, pValue: 1, method: .asymptotic, hasTies: hasTies)
        }
        let z = (big - product / 2 - 0.5) / variance.squareRoot()
        return MannWhitneyU(
            n1: n1, n2: n2, u1: u1, u2: u2, z: z, pValue: min(1, 2 * NormalDistribution.survival(z)),
            method: .asymptotic, hasTies: hasTies)
    }

    /// P(U ≥ u) under the null for sample sizes m and n, no ties. With p(u; i, j) the
    /// probability of U = u for i and j values: the largest of all i + j values comes from
    /// the first sample with probability i/(i+j) and then beats all j others, so
    /// p(u; i, j) = i/(i+j)·p(u − j; i−1, j) + j/(i+j)·p(u; i, j−1).
    static func exactUpperTail(_ u: Int, _ m: Int, _ n: Int) -> Double {
        // previous[j] = distribution for (i − 1, j); current[j] for (i, j).
        var previous: [[Double]] = (0...n).map { _ in [1.0] }
        for i in 1...m {
            var current: [[Double]] = [[1.0]]
            current.reserveCapacity(n + 1)
            for j in 1...n {
                var dist = [Double](repeating: 0, count: i * j + 1)
                let a = Double(i) / Double(i + j)
                let b = Double(j) / Double(i + j)
                let fromX = previous[j]
                for (k, p) in fromX.enumerated() where p != 0 { dist[k + j] += a * p }
                let fromY = current[j - 1]
                for (k, p) in fromY.enumerated() where p != 0 { dist[k] += b * p }
                current.append(dist)
            }
            previous = current
        }
        let dist = previous[n]
        guard u > 0 else { return 1 }
        guard u < dist.count else { return 0 }
        var tail = 0.0
        for k in u..<dist.count { tail += dist[k] }
        return tail
    }
}
