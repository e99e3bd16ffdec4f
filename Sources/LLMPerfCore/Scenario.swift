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

/// A scenario file after loading: one scenario per run it asks for (one, or one per variant
/// in file order; the first variant is the baseline the others are compared with).
public struct ScenarioDocument: Sendable, Equatable {
    public var path: String
    public var runs: [Scenario]
    /// The `lab:` section: how `llmperf lab` compares the variants; nil when absent.
    public var lab: LabSpec?

    public init(path: String, runs: [Scenario], lab: LabSpec? = nil) {
        self.path = path
        self.runs = runs
        self.lab = lab
    }
}

// MARK: - target

public enum APIKind: String, Sendable, Equatable, CaseIterable, Codable {
    case openAIChat = "openai-chat"
    case openAICompletions = "openai-completions"
}

public enum ConnectionPolicy: String, Sendable, Equatable, CaseIterable, Codable {
    /// Keep connections alive and reuse them (HTTP/2 multiplexes).
    case reuse
    /// A fresh connection for every request: DNS, TCP and TLS are paid and measured each time.
    case new
}

public enum HTTPVersionPreference: String, Sendable, Equatable, CaseIterable, Codable {
    case http1_1 = "1.1"
    case http2 = "2"
}

public struct TLSOptions: Sendable, Equatable {
    /// PEM file of certificate authorities to trust instead of the system's.
    public var caFile: String?
    /// Skip certificate verification (never the default).
    public var insecure: Bool

    public init(caFile: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.insecure = insecure
    }
}

/// Per-phase limits; nil means no limit for that phase. Each one that fires is its own
/// failure kind (`timeout_connect`, `timeout_first_token`, `timeout_idle`, `timeout_total`).
public struct Timeouts: Sendable, Equatable {
    public var connect: Duration?
    public var firstToken: Duration?
    public var idle: Duration?
    public var total: Duration?

    public init(
        connect: Duration? = .seconds(10), firstToken: Duration? = nil, idle: Duration? = nil,
        total: Duration? = .seconds(600)
    ) {
        self.connect = connect
        self.firstToken = firstToken
        self.idle = idle
        self.total = total
    }
}

/// A request header. `value` is what is sent (environment variables expanded); `template`
/// is the text as written in the scenario. A header is secret when its template referenced
/// an environment variable, or its name is Authorization, Proxy-Authorization or Cookie, or
/// contains key, token, secret or password (case-insensitive).
public struct HeaderSpec: Sendable, Equatable {
    public var name: String
    public var value: String
    public var template: String
    public var isSecret: Bool

    public init(name: String, value: String, template: String, isSecret: Bool) {
        self.name = name
        self.value = value
        self.template = template
        self.isSecret = isSecret
    }
}

/// `target: {backend: local, ...}`: llmperf starts `llmperf serve` as a child process on an
/// ephemeral 127.0.0.1 port and stops it afterwards.
public struct LocalBackendSpec: Sendable, Equatable {
    /// "transformer" (the real model) or "synthetic".
    public var engine: String
    /// `--model` for the transformer engine ("default" or a GGUF path); nil for the synthetic
    /// engine, which serves the model name "synthetic".
    public var model: String?
    /// Serve over HTTPS with a certificate made for the run (the client trusts it).
    public var tls: Bool
    /// Further `llmperf serve` flags, e.g. `ttft-ms: 50` → `--ttft-ms 50`, in key order.
    public var options: [(key: String, value: String)]

    public init(
        engine: String = "transformer", model: String? = nil, tls: Bool = false,
        options: [(key: String, value: String)] = []
    ) {
        self.engine = engine
        self.model = model
        self.tls = tls
        self.options = options
    }

    /// The `llmperf serve` arguments this backend needs (port, TLS files added by the runner).
    public var serveArguments: [String] {
        var args = ["--engine", engine]
        if let model { args += ["--model", model] }
        for option in options { args += ["--\(option.key)", option.value] }
        return args
    }

    public static func == (lhs: LocalBackendSpec, rhs: LocalBackendSpec) -> Bool {
        lhs.engine == rhs.engine && lhs.model == rhs.model && lhs.tls == rhs.tls
            && lhs.options.map(\.key) == rhs.options.map(\.key) && lhs.options.map(\.value) == rhs.options.map(\.value)
    }
}

public struct TargetSpec: Sendable, Equatable {
    /// Base URL of a remote endpoint (e.g. `https://api.example.com/v1`); nil for a local backend.
    public var url: String?
    /// `url` as it may be stored and shown: the template as written (`${VAR}` unexpanded) when it
    /// named a variable, since a variable's value may be a secret (a password in the URL).
    public var shownURL: String?
    public var backend: LocalBackendSpec?
    public var api: APIKind
    /// The `model` field sent in each request.
    public var model: String
    public var headers: [HeaderSpec]
    public var tls: TLSOptions
    public var connection: ConnectionPolicy
    public var http: HTTPVersionPreference
    public var timeouts: Timeouts

    public init(
        url: String? = nil, backend: LocalBackendSpec? = nil, api: APIKind = .openAIChat,
        model: String = "default", headers: [HeaderSpec] = [], tls: TLSOptions = TLSOptions(),
        connection: ConnectionPolicy = .reuse, http: HTTPVersionPreference = .http1_1,
        timeouts: Timeouts = Timeouts()
    ) {
        self.url = url
        self.shownURL = url
        self.backend = backend
        self.api = api
        self.model = model
        self.headers = headers
        self.tls = tls
        self.connection = connection
        self.http = http
        self.timeouts = timeouts
    }

    /// The full URL requests go to: the base URL plus the API's path (`/chat/completions` or
    /// `/completions`), unless the base URL already ends with it.
    public func endpointURL(base: String) -> String {
        let path = api == .openAIChat ? "/chat/completions" : "/completions"
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix(path) { return trimmed }
        return trimmed + path
    }
}

// MARK: - workload

/// One prompt as sent: an optional system message and the user text.
public struct Prompt: Sendable, Equatable, Codable {
    public var system: String?
    public var user: String

    public init(system: String? = nil, user: String) {
        self.system = system
        self.user = user
    }
}

public struct SyntheticPromptSpec: Sendable, Equatable {
    /// Target prompt length in (approximate) tokens: mean and standard deviation.
    public var inputTokensMean: Int
    public var inputTokensStddev: Int
    /// How many distinct prompts to generate.
    public var count: Int

    public init(inputTokensMean: Int, inputTokensStddev: Int = 0, count: Int = 16) {
        self.inputTokensMean = inputTokensMean
        self.inputTokensStddev = inputTokensStddev
        self.count = count
    }
}

public struct WorkloadSpec: Sendable, Equatable {
    /// Every prompt the run cycles through, resolved from `prompts`, `prompt_file` and
    /// `synthetic` (in that order), with `system` applied.
    public var prompts: [Prompt]
    public var maxTokens: Int?
    public var temperature: Double?
    public var seed: Int?
    public var stream: Bool
    /// Ask for `usage` in the stream (`stream_options.include_usage`).
    public var includeUsage: Bool
    /// `extra_body`: further fields added to every request body, in order (never one that
    /// llmperf sets itself).
    public var extraBody: [RequestBodyField]

    public init(
        prompts: [Prompt], maxTokens: Int? = nil, temperature: Double? = nil, seed: Int? = nil, stream: Bool = true,
        includeUsage: Bool = true, extraBody: [RequestBodyField] = []
    ) {
        self.prompts = prompts
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.seed = seed
        self.stream = stream
        self.includeUsage = includeUsage
        self.extraBody = extraBody
    }
}

// MARK: - load

public enum ArrivalProcess: String, Sendable, Equatable, CaseIterable, Codable {
    case poisson
    case constant
}

public enum LoadShape: Sendable, Equatable {
    /// Closed loop: N workers, each sends its next request when the previous one ends.
    case closed(concurrency: Int)
    /// Open loop: requests sent on a seeded schedule whatever is in flight; with
    /// `maxConcurrency` a request waits (recorded as client queue time) for a free slot.
    case open(ratePerSecond: Double, arrival: ArrivalProcess, maxConcurrency: Int?)
}

public enum LoadStop: Sendable, Equatable {
    case requests(Int)
    case duration(Duration)
}

public struct LoadSpec: Sendable, Equatable {
    public var shape: LoadShape
    public var stop: LoadStop
    /// Requests sent first, stored flagged, and kept out of the statistics.
    public var warmup: Int
    /// Seed of the arrival schedule (open loop).
    public var seed: UInt64

    public init(shape: LoadShape, stop: LoadStop, warmup: Int = 0, seed: UInt64 = 1) {
        self.shape = shape
        self.stop = stop
        self.warmup = warmup
        self.seed = seed
    }
}

// MARK: - slo

/// One `slo:` entry: a bound on a run statistic. Latency and error bounds are upper limits
/// (`ttft.p95: 500ms` passes while p95 ≤ 500 ms); throughput and goodput bounds are lower
/// limits (`output_tokens_per_s: 100` passes while ≥ 100).
public struct SLOThreshold: Sendable, Equatable, Codable {
    /// As written: `ttft.p95`, `error_rate`, `output_tokens_per_s`, `goodput`, …
    public var key: String
    /// For per-request metrics: the metric and the statistic (`p95`, `mean`, …).
    public var metric: Metric?
    public var statistic: String?
    /// Milliseconds for latencies, a fraction (0.01 for 1%) for rates, per second for throughput.
    public var limit: Double
    /// True when the measured value must stay at or below `limit`.
    public var isUpperBound: Bool

    public init(key: String, metric: Metric?, statistic: String?, limit: Double, isUpperBound: Bool) {
        self.key = key
        self.metric = metric
        self.statistic = statistic
        self.limit = limit
        self.isUpperBound = isUpperBound
    }
}
