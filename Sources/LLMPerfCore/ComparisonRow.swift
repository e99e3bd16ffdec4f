import Foundation

/// One measure, baseline against one candidate.
public struct ComparisonRow: Sendable, Equatable, Codable {
    public var measure: RunMeasure
    public var unit: MeasureUnit
    public var higherIsBetter: Bool
    public var baseline: RowStatistics
    public var candidate: RowStatistics
    /// Change of the p50 and of the mean (per-request metrics, throughput buckets).
    public var p50Change: Change?
    public var meanChange: Change?
    /// Change of the run-level value (throughput, rates; absolute change of a rate is in
    /// fraction points).
    public var valueChange: Change?
    /// What the test compared (see `RunMeasure.testSamples`).
    public var testedOn: String
    public var mannWhitney: MannWhitneyU?
    public var proportions: TwoProportionTest?
    /// The p-value of whichever test ran; nil when none could.
    public var pValue: Double?
    /// Bootstrap intervals of candidate − baseline for p50 and p95 of the tested samples.
    public var p50Difference: BootstrapInterval?
    public var p95Difference: BootstrapInterval?
    public var verdict: Verdict

    public init(
        measure: RunMeasure, unit: MeasureUnit, higherIsBetter: Bool, baseline: RowStatistics,
        candidate: RowStatistics, p50Change: Change?, meanChange: Change?, valueChange: Change?, testedOn: String,
        mannWhitney: MannWhitneyU?, proportions: TwoProportionTest?, pValue: Double?,
        p50Difference: BootstrapInterval?, p95Difference: BootstrapInterval?, verdict: Verdict
    ) {
        self.measure = measure
        self.unit = unit
        self.higherIsBetter = higherIsBetter
        self.baseline = baseline
        self.candidate = candidate
        self.p50Change = p50Change
        self.meanChange = meanChange
        self.valueChange = valueChange
        self.testedOn = testedOn
        self.mannWhitney = mannWhitney
        self.proportions = proportions
        self.pValue = pValue
        self.p50Difference = p50Difference
        self.p95Difference = p95Difference
        self.verdict = verdict
    }
}
