import Foundation

/// A validated scenario (one run's worth: the base document or one resolved variant).
/// `ScenarioLoader` builds these from YAML `version: 1`; see DESIGN §4 and the README.
public struct Scenario: Sendable, Equatable {
    public var name: String
    /// Variant name when this scenario came from `variants:`; nil for a scenario without.
    public var variant: String?
    public var target: TargetSpec
    public var workload: WorkloadSpec
    public var load: LoadSpec
    public var slo: [SLOThreshold]
    /// The scenario as YAML with every `${VAR}` left unexpanded and header values that carry
    /// secrets redacted: the only form that may be stored or shown.
    public var redactedYAML: String
    /// SHA-256 (hex) of the redacted, resolved scenario minus its name, variant and slo: two runs
    /// with the same hash sent the same workload the same way (see `ScenarioCanonicalForm`).
    public var hash: String

    public init(
        name: String, variant: String? = nil, target: TargetSpec, workload: WorkloadSpec,
        load: LoadSpec, slo: [SLOThreshold] = [], redactedYAML: String = "", hash: String = ""
    ) {
        self.name = name
        self.variant = variant
        self.target = target
        self.workload = workload
        self.load = load
        self.slo = slo
        self.redactedYAML = redactedYAML
        self.hash = hash
    }
}
