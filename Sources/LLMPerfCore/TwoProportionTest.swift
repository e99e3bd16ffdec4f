import Foundation

/// The two-sided two-proportion z-test with the pooled standard error, for rates such as the
/// error rate or the goodput share: z = (p₂ − p₁) / √(p̂(1−p̂)(1/n₁ + 1/n₂)) with
/// p̂ = (x₁ + x₂)/(n₁ + n₂), p = 2·P(Z ≥ |z|). Equivalent to Pearson's χ² test on the 2×2 table
/// without continuity correction (z² = χ²). When both rates are 0 or both are 1 the
/// standard error is 0: z is 0 and p is 1.
public struct TwoProportionTest: Sendable, Equatable, Codable {
    public var successes1: Int
    public var trials1: Int
    public var successes2: Int
    public var trials2: Int
    public var z: Double
    public var pValue: Double

    public var proportion1: Double { Double(successes1) / Double(trials1) }
    public var proportion2: Double { Double(successes2) / Double(trials2) }
    /// p₂ − p₁.
    public var difference: Double { proportion2 - proportion1 }

    /// Nil when either group has no trials or a count is out of range.
    public init?(successes1: Int, trials1: Int, successes2: Int, trials2: Int) {
        guard trials1 > 0, trials2 > 0, (0...trials1).contains(successes1), (0...trials2).contains(successes2)
        else { return nil }
        self.successes1 = successes1
        self.trials1 = trials1
        self.successes2 = successes2
        self.trials2 = trials2
        let n1 = Double(trials1)
        let n2 = Double(trials2)
        let pooled = Double(successes1 + successes2) / (n1 + n2)
        let standardError = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        if standardError > 0 {
            z = (Double(successes2) / n2 - Double(successes1) / n1) / standardError
            pValue = NormalDistribution.twoSidedPValue(z)
        } else {
            z = 0
            pValue = 1
        }
    }
}
