import Foundation

/// The lifecycle state of a stored run.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running
    case completed
    /// Stopped by Ctrl-C, or its process was killed or crashed (found `running` with its
    /// process gone on the next open of the database): every stored request is kept.
    case interrupted
    /// Could not run at all (e.g. the local backend failed to start), or storing its requests
    /// failed (after a retry) and the run was stopped; what was stored before is kept.
    case failed
}

/// A run's metadata: what was measured, where, and with what. Requests are stored apart.
public struct RunInfo: Sendable, Equatable, Codable {
    /// Short id such as `r7f3a2c`.
    public var id: String
    public var name: String
    public var variant: String?
    /// Runs started by one `llmperf run` invocation (variants) share a batch id.
    public var batchID: String
    public var labels: [String]
    public var status: RunStatus
    /// The scenario with secrets redacted (see `Scenario.redactedYAML`).
    public var scenarioYAML: String
    public var scenarioHash: String
    public var scenarioPath: String
    /// The endpoint requests went to (a local backend's ephemeral URL included).
    public var targetURL: String
    public var api: String
    public var model: String
    /// A short description of the load: `closed c=4 n=100 warmup=2`, `open poisson 10/s …`.
    public var loadDescription: String
    public var maxTokens: Int?
    /// Hash of the prompt set (system + user texts), to warn when runs used different prompts.
    public var promptSetHash: String
    /// The scenario's `slo:` thresholds, applied by `llmperf gate`.
    public var slo: [SLOThreshold]
    /// Set when the stored `slo:` rules could not be read back (then `slo` is empty): a gate
    /// must refuse the run rather than check it without its rules.
    public var sloProblem: String?
    public var toolVersion: String
    public var host: String
    public var gitCommit: String?
    /// Wall-clock start (the only wall-clock time stored; request times are monotonic).
    public var startedAt: Date
    public var endedAt: Date?
    /// How hard the client worked while the requests ran; nil for runs stored before it was recorded.
    public var clientLoad: ClientLoad?
    /// Set when the run was measured over its steady state (`--steady-state`, every sweep point): its
    /// statistics count the requests inside this window only (the others stay stored).
    public var steadyWindow: SteadyStateWindow?
    /// Set on one shard's run of a sharded load (`run --shard I/N`): which shard, and its clocks.
    public var shard: ShardStamp?
    /// A run merged from its shards' runs (`llmperf merge`): its shards, by index; nil for any other run.
    public var mergedFrom: [MergedShard]?

    public init(
        id: String, name: String, variant: String? = nil, batchID: String, labels: [String] = [],
        status: RunStatus = .running, scenarioYAML: String = "", scenarioHash: String = "",
        scenarioPath: String = "", targetURL: String = "", api: String = "", model: String = "",
        loadDescription: String = "", maxTokens: Int? = nil, promptSetHash: String = "",
        slo: [SLOThreshold] = [], toolVersion: String = LLMPerfVersion.current, host: String = "",
        gitCommit: String? = nil,
        startedAt: Date, endedAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.variant = variant
        self.batchID = batchID
        self.labels = labels
        self.status = status
        self.scenarioYAML = scenarioYAML
        self.scenarioHash = scenarioHash
        self.scenarioPath = scenarioPath
        self.targetURL = targetURL
        self.api = api
        self.model = model
        self.loadDescription = loadDescription
        self.maxTokens = maxTokens
        self.promptSetHash = promptSetHash
        self.slo = slo
        self.toolVersion = toolVersion
        self.host = host
        self.gitCommit = gitCommit
        self.startedAt = startedAt
        self.endedAt = endedAt
    }

    /// `name` or `name/variant`.
    public var displayName: String {
        if let variant { return "\(name)/\(variant)" }
        return name
    }
}
