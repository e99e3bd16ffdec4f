import Foundation

extension ScenarioDecoder {
    struct DecodedTarget {
        var spec: TargetSpec
        /// Names of headers whose values must never be shown or stored.
        var secretHeaders: Set<String>
    }

    static let targetKeys = [
        "url", "backend", "api", "model", "headers", "tls", "connection", "http", "timeouts", "engine", "options",
        "metrics",
    ]

    func target(_ node: ScenarioNode) throws(ScenarioError) -> DecodedTarget {
        let path = ["target"]
        try mapping(node, path, allowed: Self.targetKeys)
        try exclusive("url", "backend", in: node, path, hint: "a target is either a remote url or backend: local")
        var spec = TargetSpec()

        if let backendNode = node["backend"] {
            try choice(backendNode, path + ["backend"], [("local", ())])
            spec.backend = try localBackend(node, path)
            spec.model = spec.backend?.model ?? "synthetic"
        } else if let urlNode = node["url"] {
            (spec.url, spec.shownURL) = try url(urlNode, path + ["url"])
            for key in ["engine", "options"] {
                if let entry = node.entry(key) {
                    throw error(
                        .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                        path + [key], "only applies to backend: local")
                }
            }
            // llama.cpp's and TGI's native requests name no model: the server answers with the one it serves.
            let namesModel = node["api"]?.scalarText.flatMap(APIKind.init(rawValue:))?.sendsModel ?? true
            if let modelNode = node["model"] {
                spec.model = try nonEmptyModel(expanded(modelNode, path + ["model"]).value, modelNode, path + ["model"])
            } else if namesModel {
                throw missing(
                    "model", in: node, path, "required for a url target (the model name sent in each request)")
            }
        } else {
            throw error(.missingKey, at: node, path, "expected either url (a remote endpoint) or backend: local")
        }

        if let apiNode = node["api"] {
            spec.api = try choice(apiNode, path + ["api"], APIKind.allCases.map { ($0.rawValue, $0) })
        }
        var secretHeaders: Set<String> = []
        if let headersNode = node["headers"] {
            (spec.headers, secretHeaders) = try headers(headersNode, path + ["headers"])
        }
        if let tlsNode = node["tls"] {
            if spec.backend != nil {
                spec.backend?.tls = try bool(tlsNode, path + ["tls"])
            } else {
                spec.tls = try tlsOptions(tlsNode, path + ["tls"])
            }
        }
        if let connectionNode = node["connection"] {
            spec.connection = try choice(
                connectionNode, path + ["connection"], ConnectionPolicy.allCases.map { ($0.rawValue, $0) })
        }
        if let httpNode = node["http"] {
            spec.http = try choice(httpNode, path + ["http"], HTTPVersionPreference.allCases.map { ($0.rawValue, $0) })
            // libcurl 7.88.1 fails the second request on a reused cleartext HTTP/2 (h2c prior
            // knowledge) connection: refuse the combination rather than measure errors.
            let cleartext = spec.url.map { $0.lowercased().hasPrefix("http:") } ?? !(spec.backend?.tls ?? false)
            if spec.http == .http2 && cleartext && spec.connection == .reuse {
                throw error(
                    .conflict, at: httpNode, path + ["http"],
                    "http: 2 over cleartext http:// needs connection: new (libcurl cannot reuse a prior-knowledge "
                        + "HTTP/2 connection for a second request); use an https URL, connection: new, or http: 1.1")
            }
        }
        if let timeoutsNode = node["timeouts"] {
            spec.timeouts = try timeouts(timeoutsNode, path + ["timeouts"])
        }
        if let metricsNode = node["metrics"] {
            spec.metrics = try metricsScrape(metricsNode, path + ["metrics"], local: spec.backend != nil)
        }
        return DecodedTarget(spec: spec, secretHeaders: secretHeaders)
    }

    private func nonEmptyModel(_ value: String, _ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> String
    {
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw invalid(node, path, expected: "a non-empty model name")
        }
        return value
    }

    /// `metrics: URL`, `metrics: {url: URL, interval: 1s}`, or for a local backend `metrics: {interval: 1s}` or
    /// `metrics: true` (its own `/metrics`).
    private func metricsScrape(_ node: ScenarioNode, _ path: [String], local: Bool) throws(ScenarioError)
        -> MetricsScrapeSpec
    {
        var spec = MetricsScrapeSpec()
        if node.scalarText == "true" || node.scalarText == "false" {
            guard local, node.scalarText == "true" else {
                throw invalid(
                    node, path,
                    expected: local
                        ? "true, a URL or a mapping {url, interval}"
                        : "the server's metrics URL (http://host:port/metrics) or a mapping {url, interval}")
            }
            return spec
        }
        if node.scalarText != nil {
            (spec.url, spec.shownURL) = try url(node, path)
            return spec
        }
        try mapping(node, path, allowed: ["url", "interval"])
        if let urlNode = node["url"] {
            (spec.url, spec.shownURL) = try url(urlNode, path + ["url"])
        } else if !local {
            throw missing("url", in: node, path, "the server's metrics URL, such as http://host:9400/metrics")
        }
        if let intervalNode = node["interval"] {
            spec.interval = try duration(intervalNode, path + ["interval"])
            if spec.interval < MetricsScrapeSpec.shortestInterval {
                throw invalid(intervalNode, path + ["interval"], expected: "an interval of at least 100ms")
            }
        }
        return spec
    }

    /// The expanded URL, and how it may be shown: the template when it named a variable.
    private func url(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> (value: String, shown: String) {
        let expansion = try expanded(node, path)
        let value = expansion.value
        guard TargetSpec.isHTTPURL(value) else {
            throw error(
                .invalidValue, at: node, path,
                "expected an http or https URL such as https://api.example.com/v1, got '\(value)'")
        }
        return (value, expansion.variables.isEmpty ? value : node.scalarText ?? value)
    }

    private func localBackend(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> LocalBackendSpec {
        var backend = LocalBackendSpec()
        if let engineNode = node["engine"] {
            backend.engine = try choice(
                engineNode, path + ["engine"], [("transformer", "transformer"), ("synthetic", "synthetic")])
        }
        let modelNode = node["model"]
        if backend.engine == "synthetic" {
            if let modelNode, modelNode.scalarText != "synthetic" {
                throw invalid(
                    modelNode, path + ["model"], expected: "synthetic (the synthetic engine's only model) or no model")
            }
            backend.model = nil
        } else {
            backend.model = "default"
            if let modelNode {
                backend.model = try nonEmptyModel(
                    expanded(modelNode, path + ["model"]).value, modelNode, path + ["model"])
            }
        }
        if let optionsNode = node["options"] {
            let entries = try mapping(
                optionsNode, path + ["options"], allowed: nil, what: "a mapping of llmperf serve flags")
            let reserved = [
                "engine": "set target.engine instead", "model": "set target.model instead",
                "port": "llmperf picks a free port", "host": "the local backend always listens on 127.0.0.1",
            ]
            for entry in entries where !entry.value.isNull {
                let optionPath = path + ["options", entry.key]
                let validFlag =
                    entry.key.first.map { $0.isASCII && ($0.isLetter || $0.isNumber) } == true
                    && entry.key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                guard validFlag else {
                    throw error(
                        .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                        optionPath, "expected a flag name such as ttft-ms (letters, digits and '-')")
                }
                if let reason = reserved[entry.key] {
                    throw error(
                        .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                        optionPath, "cannot be set in options: \(reason)")
                }
                let value = try string(entry.value, optionPath, expected: "a single value (number, word or string)")
                if entry.key == "device" {
                    guard backend.engine == "transformer" else {
                        throw error(
                            .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                            optionPath, "applies to the transformer engine, not synthetic")
                    }
                    guard LocalBackendSpec.isDevice(value) else {
                        throw invalid(entry.value, optionPath, expected: LocalBackendSpec.deviceValues)
                    }
                }
                backend.options.append((key: entry.key, value: value))
            }
        }
        return backend
    }

    private func headers(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> ([HeaderSpec], Set<String>) {
        let entries = try mapping(node, path, allowed: nil, what: "a mapping of header names to values")
        var headers: [HeaderSpec] = []
        var secret: Set<String> = []
        let tokenSymbols = Set("!#$%&'*+-.^_`|~")
        for entry in entries where !entry.value.isNull {
            let headerPath = path + [entry.key]
            guard !entry.key.isEmpty,
                entry.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || tokenSymbols.contains($0)) })
            else {
                throw error(
                    .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                    headerPath,
                    "expected a header name (letters, digits and -_.!#$%&'*+^`|~)")
            }
            if let earlier = headers.first(where: { $0.name.lowercased() == entry.key.lowercased() }) {
                throw error(
                    .conflict, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant, headerPath,
                    "header names are case-insensitive: this repeats '\(earlier.name)'")
            }
            let template = try string(entry.value, headerPath, expected: "a header value")
            let expansion = try expanded(entry.value, headerPath)
            guard !expansion.value.contains(where: { $0 == "\n" || $0 == "\r" }) else {
                throw error(.invalidValue, at: entry.value, headerPath, "a header value cannot contain a line break")
            }
            let isSecret = !expansion.variables.isEmpty || Self.isSecretHeaderName(entry.key)
            if isSecret { secret.insert(entry.key) }
            headers.append(HeaderSpec(name: entry.key, value: expansion.value, template: template, isSecret: isSecret))
        }
        return (headers, secret)
    }

    /// Authorization, Proxy-Authorization, Cookie, and any name containing key, token, secret
    /// or password (case-insensitive).
    static func isSecretHeaderName(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if ["authorization", "proxy-authorization", "cookie"].contains(lowered) { return true }
        return ["key", "token", "secret", "password"].contains { lowered.contains($0) }
    }

    private func tlsOptions(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> TLSOptions {
        try mapping(
            node, path, allowed: ["ca_file", "insecure"],
            what: "a mapping with ca_file and/or insecure (tls: true|false is for backend: local)")
        var options = TLSOptions()
        if let caNode = node["ca_file"] {
            let written = try expanded(caNode, path + ["ca_file"]).value
            let resolved = resolvedPath(written)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue
            else {
                throw error(.referencedFile, at: caNode, path + ["ca_file"], "no such file: \(resolved)")
            }
            options.caFile = resolved
        }
        if let insecureNode = node["insecure"] {
            options.insecure = try bool(insecureNode, path + ["insecure"])
        }
        return options
    }

    private func timeouts(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> Timeouts {
        try mapping(node, path, allowed: ["connect", "first_token", "idle", "total"])
        var timeouts = Timeouts()
        func limit(_ key: String) throws(ScenarioError) -> Duration?? {
            guard let valueNode = node[key] else { return .none }
            if valueNode.scalarText == "none" { return .some(nil) }
            guard let text = valueNode.scalarText, let value = DurationParser.parse(text), value > .zero else {
                throw invalid(valueNode, path + [key], expected: DurationParser.expectation + " (or none)")
            }
            return .some(value)
        }
        if let value = try limit("connect") { timeouts.connect = value }
        if let value = try limit("first_token") { timeouts.firstToken = value }
        if let value = try limit("idle") { timeouts.idle = value }
        if let value = try limit("total") { timeouts.total = value }
        return timeouts
    }
}
