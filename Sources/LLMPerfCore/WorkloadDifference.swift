import Foundation

/// What a run sent and how, for the "are these runs comparable?" check. Every field is
/// optional: a field unknown for either run is not compared.
public struct RunWorkload: Sendable, Equatable, Codable {
    /// `Scenario.hash`: equal hashes mean the same resolved workload sent the same way.
    public var scenarioHash: String?
    public var model: String?
    /// API dialect, e.g. `openai-chat`.
    public var api: String?
    public var maxTokens: Int?
    /// A hash of the prompt set (system + user texts).
    public var promptSetHash: String?
    /// A short description of the load, e.g. `closed c=4` or `open poisson 10/s`.
    public var loadShape: String?

    public init(
        scenarioHash: String? = nil, model: String? = nil, api: String? = nil, maxTokens: Int? = nil,
        promptSetHash: String? = nil, loadShape: String? = nil
    ) {
        self.scenarioHash = scenarioHash
        self.model = model
        self.api = api
        self.maxTokens = maxTokens
        self.promptSetHash = promptSetHash
        self.loadShape = loadShape
    }

    /// From a stored run's metadata (empty strings count as unknown).
    public init(info: RunInfo) {
        func known(_ text: String) -> String? { text.isEmpty ? nil : text }
        self.init(
            scenarioHash: known(info.scenarioHash), model: known(info.model), api: known(info.api),
            maxTokens: info.maxTokens, promptSetHash: known(info.promptSetHash),
            loadShape: known(info.loadDescription))
    }
}

/// One way two runs' workloads differ.
public struct WorkloadDifference: Sendable, Equatable, Codable {
    /// `model`, `api`, `max_tokens`, `prompts`, `load`, or `scenario` (the hash differs while
    /// every other known field agrees).
    public var field: String
    public var baseline: String
    public var candidate: String

    public init(field: String, baseline: String, candidate: String) {
        self.field = field
        self.baseline = baseline
        self.candidate = candidate
    }

    /// e.g. `model differs: "a" vs "b"`.
    public var description: String { "\(field) differs: \"\(baseline)\" vs \"\(candidate)\"" }

    /// The fields known for both runs that differ, in a fixed order. The scenario hash is
    /// reported only when nothing more specific explains the difference.
    public static func between(_ baseline: RunWorkload, _ candidate: RunWorkload) -> [WorkloadDifference] {
        var differences: [WorkloadDifference] = []
        func check(_ field: String, _ a: String?, _ b: String?) {
            if let a, let b, a != b { differences.append(WorkloadDifference(field: field, baseline: a, candidate: b)) }
        }
        check("model", baseline.model, candidate.model)
        check("api", baseline.api, candidate.api)
        check("max_tokens", baseline.maxTokens.map(String.init), candidate.maxTokens.map(String.init))
        check("prompts", baseline.promptSetHash, candidate.promptSetHash)
        check("load", baseline.loadShape, candidate.loadShape)
        if differences.isEmpty { check("scenario", baseline.scenarioHash, candidate.scenarioHash) }
        return differences
    }
}
