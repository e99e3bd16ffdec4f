import Foundation

/// The standard normal distribution, as the tests' large-sample approximations need it.
public enum NormalDistribution {
    /// P(Z ≤ z).
    public static func cdf(_ z: Double) -> Double {
        0.5 * erfc(-z / 2.0.squareRoot())
    }

    /// P(Z ≥ z), accurate far into the upper tail (no 1 − cdf cancellation).
    public static func survival(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// P(|Z| ≥ |z|).
    public static func twoSidedPValue(_ z: Double) -> Double {
        min(1, 2 * survival(abs(z)))
    }
}
