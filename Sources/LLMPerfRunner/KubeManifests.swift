import Foundation
import LLMPerfCore
import Yams

/// The Kubernetes manifests of `llmperf kube render`: a scenario split into N shards that start together,
/// and a merge of their results.
///
/// Four YAML documents, in apply order:
/// 1. a ConfigMap `NAME-scenario` with the scenario file's text verbatim (key `scenario.yml`);
/// 2. a PersistentVolumeClaim `NAME-results` (ReadWriteMany) for the shard files;
/// 3. an Indexed Job `NAME` of N pods, each `llmperf run /scenario/scenario.yml --shard $(SHARD_INDEX)/N
///    --start-at TIME --batch-id BATCH --db /results/shard-$(SHARD_INDEX).sqlite --quiet`;
/// 4. a Job `NAME-merge` that waits for the shards and merges them into `/results/merged.sqlite`.
///
/// Secrets go by reference only: each `${VAR}` the scenario's values name becomes an env var of the shard
/// container from `secretKeyRef {name: SECRET, key: VAR}`; no variable's value is ever read.
public struct KubeManifests: Sendable {
    /// What the command line says.
    public struct Settings: Sendable, Equatable {
        public var name: String
        public var namespace: String?
        public var image: String
        public var shards: Int
        /// The Secret whose keys are the scenario's variables; needed when the scenario names any.
        public var secret: String?
        /// When every shard starts sending (wall clock, fixed at render time).
        public var startAt: Date
        /// The id the shards' runs are stored under, so the merge can check they belong together.
        public var batchID: String
        public var storageClass: String?
        public var storage: String
        public var cpu: String
        public var memory: String

        public init(
            name: String, namespace: String? = nil, image: String, shards: Int, secret: String? = nil,
            startAt: Date, batchID: String, storageClass: String? = nil, storage: String = "1Gi", cpu: String = "2",
            memory: String = "1Gi"
        ) {
            self.name = name
            self.namespace = namespace
            self.image = image
            self.shards = shards
            self.secret = secret
            self.startAt = startAt
            self.batchID = batchID
            self.storageClass = storageClass
            self.storage = storage
            self.cpu = cpu
            self.memory = memory
        }
    }

    /// The most shards one render makes.
    public static let maxShards = 1000
    /// The longest name: 63 (a DNS-1123 label) less the longest suffix a manifest adds (`-results`,
    /// `-scenario`), with room for the Job controller's pod suffixes.
    public static let maxNameLength = 52
    /// Where the pods find the scenario and write their results.
    public static let scenarioMountPath = "/scenario"
    public static let resultsMountPath = "/results"
    /// The env var each shard pod reads its index from (Kubernetes expands `$(SHARD_INDEX)` in args).
    public static let shardIndexVariable = "SHARD_INDEX"
    /// How long the merge waits for every shard to finish.
    public static let mergeWait = "2h"

    public var settings: Settings
    /// The scenario file's text, exactly as read.
    public var scenarioText: String
    /// The scenario's path here (named in errors, anchors its relative paths when it is checked).
    public var scenarioPath: String

    public init(settings: Settings, scenarioText: String, scenarioPath: String) {
        self.settings = settings
        self.scenarioText = scenarioText
        self.scenarioPath = scenarioPath
    }

    /// The variables the scenario's values name (comments aside), each once, in order of first mention,
    /// and whether every mention of it has a `:-fallback`.
    public var variables: [(name: String, optional: Bool)] {
        var order: [String] = []
        var required: [String: Bool] = [:]
        for reference in Self.scalarTexts(of: scenarioText).flatMap(ScenarioTemplate.references(in:)) {
            if required[reference.name] == nil { order.append(reference.name) }
            required[reference.name] = (required[reference.name] ?? false) || !reference.hasFallback
        }
        return order.map { ($0, !(required[$0] ?? true)) }
    }

    /// The whole multi-document YAML, after checking the settings and the scenario.
    public func render() throws(KubeRenderError) -> String {
        try validate()
        let documents = [configMap(), persistentVolumeClaim(), shardJob(), mergeJob()]
        var text = header()
        for document in documents {
            let body: String
            do {
                body = try Yams.serialize(node: document, width: -1)
            } catch {
                throw KubeRenderError("cannot write the manifests: \(error)")
            }
            text += "---\n" + body
        }
        return text
    }

    // MARK: - Checks

    /// Every rule the settings and the scenario must meet; the first broken one is thrown.
    public func validate() throws(KubeRenderError) {
        let s = settings
        guard (1...Self.maxShards).contains(s.shards) else {
            throw KubeRenderError("--shards must be between 1 and \(Self.maxShards), got \(s.shards)")
        }
        guard Self.isDNSLabel(s.name, maxLength: Self.maxNameLength) else {
            throw KubeRenderError(
                "--name must be a DNS-1123 label of at most \(Self.maxNameLength) characters (lowercase letters, "
                    + "digits and '-', starting and ending with a letter or digit), got '\(s.name)'")
        }
        if let namespace = s.namespace, !Self.isDNSLabel(namespace, maxLength: 63) {
            throw KubeRenderError("--namespace must be a DNS-1123 label, got '\(namespace)'")
        }
        guard !s.image.trimmingCharacters(in: .whitespaces).isEmpty, !s.image.contains(where: \.isWhitespace)
        else {
            throw KubeRenderError("--image must name a container image (e.g. llmperf:0.1.0), got '\(s.image)'")
        }
        if let secret = s.secret, !Self.isDNSSubdomain(secret) {
            throw KubeRenderError("--secret must be a Secret's name (a DNS-1123 subdomain), got '\(secret)'")
        }
        if let storageClass = s.storageClass, !Self.isDNSSubdomain(storageClass) {
            throw KubeRenderError("--storage-class must be a DNS-1123 subdomain, got '\(storageClass)'")
        }
        for (flag, value) in [("--storage", s.storage), ("--cpu", s.cpu), ("--memory", s.memory)]
        where !Self.isQuantity(value) {
            throw KubeRenderError("\(flag) expects a Kubernetes quantity such as 2, 500m or 1Gi, got '\(value)'")
        }
        guard scenarioText.utf8.count <= 1_000_000 else {
            throw KubeRenderError(
                "\(scenarioPath) is \(scenarioText.utf8.count) bytes: a ConfigMap holds at most about 1 MB")
        }
        let variables = self.variables
        let names = variables.map(\.name)
        if names.contains(Self.shardIndexVariable) {
            throw KubeRenderError(
                "\(scenarioPath) names ${\(Self.shardIndexVariable)}, which the shard pods set themselves; rename it")
        }
        if s.secret == nil, !names.isEmpty {
            throw KubeRenderError(
                "\(scenarioPath) names the variable(s) \(names.joined(separator: ", ")): pass --secret NAME, a "
                    + "Secret with a key for each (kubectl create secret generic NAME --from-literal="
                    + "\((variables.first { !$0.optional } ?? variables[0]).name)=...); the render never reads or writes "
                    + "their values")
        }
        try checkScenarioLoads(names: names)
    }

    /// Loads the scenario with a placeholder for each variable (the secrets stay where they are): first a plain
    /// word, then a URL, for a variable that is a whole `url:`.
    private func checkScenarioLoads(names: [String]) throws(KubeRenderError) {
        var firstError: ScenarioError?
        for placeholder in ["kube-render-placeholder", "http://kube-render-placeholder.invalid"] {
            let environment = Dictionary(uniqueKeysWithValues: names.map { ($0, placeholder) })
            let document: ScenarioDocument
            do {
                document = try ScenarioLoader.load(yaml: scenarioText, path: scenarioPath, environment: environment)
            } catch {
                if firstError == nil { firstError = error }
                if names.isEmpty { break }
                continue
            }
            try checkShardable(document)
            return
        }
        if let firstError {
            let note = names.isEmpty ? "" : " (checked with placeholders for its variables, not their values)"
            throw KubeRenderError("the scenario does not load\(note): \(firstError.description)")
        }
    }

    static func isDNSLabel(_ text: String, maxLength: Int) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty, scalars.count <= maxLength else { return false }
        let alphanumeric = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        guard alphanumeric(scalars[0]), alphanumeric(scalars[scalars.count - 1]) else { return false }
        return scalars.allSatisfy { alphanumeric($0) || $0 == "-" }
    }

    static func isDNSSubdomain(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            isDNSLabel(String($0), maxLength: 63)
        }
    }

    /// A Kubernetes resource quantity: a decimal number and an optional suffix (m, k, M, G, …, Ki, Mi, Gi, …,
    /// or an exponent such as e3).
    static func isQuantity(_ text: String) -> Bool {
        text.range(
            of: #"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+)?$"#,
            options: .regularExpression) != nil && text.contains(where: { $0 != "0" && $0.isNumber })
    }

    /// Every run of the scenario can be split into `shards`, against one endpoint all shards share.
    private func checkShardable(_ document: ScenarioDocument) throws(KubeRenderError) {
        for plan in document.runs {
            let what = plan.variant.map { "variant \($0) of \(scenarioPath)" } ?? scenarioPath
            if plan.target.backend != nil {
                throw KubeRenderError(
                    "\(what) starts a local backend, which every shard pod would start for itself: the shards need "
                        + "one endpoint to share (set target.url, e.g. the Service of `llmperf serve` from "
                        + "deploy/kubernetes/llmperf-serve.yaml)")
            }
            if let problem = plan.load.shardProblem(count: settings.shards) {
                throw KubeRenderError("\(what): \(problem)")
            }
        }
    }

    // MARK: - Time and ids

    /// `2026-12-06T23:00:00Z` (UTC, whole seconds).
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0,
            c.minute ?? 0, c.second ?? 0)
    }

    /// An RFC 3339 date-time (`2026-12-06T23:00:00Z`, `2026-12-06T23:00:00.5+01:00`); nil for anything else.
    public static func parseTime(_ text: String) -> Date? { WallClockTime.parse(text) }

    /// A fresh batch id: the name and the UTC time of the render, e.g. `bench-20261206T230000Z`.
    public static func batchID(name: String, at date: Date) -> String {
        name + "-" + timestamp(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    }

    // MARK: - Documents

    private var startText: String { Self.timestamp(settings.startAt) }
    private var claimName: String { settings.name + "-results" }
    private var configMapName: String { settings.name + "-scenario" }
    private var mergeName: String { settings.name + "-merge" }

    private func header() -> String {
        let s = settings
        let ns = s.namespace.map { " -n \($0)" } ?? ""
        let fetch = s.name + "-fetch"
        let overrides =
            #"{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":10001},"containers":[{"name":"fetch","#
            + #""image":"\#(s.image)","command":["sleep","3600"],"volumeMounts":[{"name":"results","#
            + #""mountPath":"/results"}]}],"volumes":[{"name":"results","persistentVolumeClaim":"#
            + #"{"claimName":"\#(claimName)"}}]}}"#
        return """
            # llmperf kube render: \(scenarioPath) in \(s.shards) shard(s), batch \(s.batchID).
            # Every shard starts sending at \(startText) (fixed when this file was rendered: apply it at once).
            #   kubectl\(ns) apply -f THIS_FILE
            #   kubectl\(ns) wait --for=condition=complete job/\(mergeName) --timeout=2h
            # Then copy the merged runs out through a pod that mounts the claim:
            #   kubectl\(ns) run \(fetch) --image=\(s.image) --restart=Never --overrides='\(overrides)'
            #   kubectl\(ns) wait --for=condition=ready pod/\(fetch)
            #   kubectl\(ns) cp \(fetch):/results/merged.sqlite merged.sqlite
            #   kubectl\(ns) delete pod/\(fetch)
            #   llmperf runs list --db merged.sqlite    # then llmperf report RUN --db merged.sqlite, compare, gate

            """
    }

    private func metadata(_ name: String, component: String, annotations: [(String, Node)] = []) -> Node {
        var pairs: [(String, Node)] = [("name", .text(name))]
        if let namespace = settings.namespace { pairs.append(("namespace", .text(namespace))) }
        pairs.append(("labels", labels(component: component)))
        if !annotations.isEmpty { pairs.append(("annotations", .map(annotations))) }
        return .map(pairs)
    }

    private func labels(component: String) -> Node {
        .map([
            ("app.kubernetes.io/name", .text("llmperf")),
            ("app.kubernetes.io/instance", .text(settings.name)),
            ("app.kubernetes.io/component", .text(component)),
        ])
    }

    func configMap() -> Node {
        .map([
            ("apiVersion", .text("v1")),
            ("kind", .text("ConfigMap")),
            ("metadata", metadata(configMapName, component: "scenario")),
            ("data", .map([("scenario.yml", .block(scenarioText))])),
        ])
    }

    func persistentVolumeClaim() -> Node {
        var spec: [(String, Node)] = [
            ("accessModes", .list([.text("ReadWriteMany")])),
            ("resources", .map([("requests", .map([("storage", .text(settings.storage))]))])),
        ]
        if let storageClass = settings.storageClass { spec.append(("storageClassName", .text(storageClass))) }
        return .map([
            ("apiVersion", .text("v1")),
            ("kind", .text("PersistentVolumeClaim")),
            ("metadata", metadata(claimName, component: "results")),
            ("spec", .map(spec)),
        ])
    }

    func shardJob() -> Node {
        let n = settings.shards
        let index = "$(\(Self.shardIndexVariable))"
        let arguments = [
            "run", "\(Self.scenarioMountPath)/scenario.yml", "--shard", "\(index)/\(n)", "--start-at", startText,
            "--batch-id", settings.batchID, "--db", "\(Self.resultsMountPath)/shard-\(index).sqlite", "--quiet",
        ]
        var env: [Node] = [
            .map([
                ("name", .text(Self.shardIndexVariable)),
                (
                    "valueFrom",
                    .map([
                        (
                            "fieldRef",
                            .map([
                                ("fieldPath", .text("metadata.annotations['batch.kubernetes.io/job-completion-index']"))
                            ])
                        )
                    ])
                ),
            ])
        ]
        if let secret = settings.secret {
            for variable in variables {
                var selector: [(String, Node)] = [("name", .text(secret)), ("key", .text(variable.name))]
                if variable.optional { selector.append(("optional", .bool(true))) }
                env.append(
                    .map([
                        ("name", .text(variable.name)),
                        ("valueFrom", .map([("secretKeyRef", .map(selector))])),
                    ]))
            }
        }
        let container = self.container(arguments: arguments, env: env, scenario: true)
        return job(
            name: settings.name, component: "shard", completions: n, indexed: true, container: container,
            scenario: true)
    }

    func mergeJob() -> Node {
        let arguments = [
            "merge", Self.resultsMountPath, "--into", "\(Self.resultsMountPath)/merged.sqlite", "--wait",
            Self.mergeWait,
        ]
        let container = self.container(arguments: arguments, env: [], scenario: false)
        return job(
            name: mergeName, component: "merge", completions: 1, indexed: false, container: container, scenario: false)
    }

    private func container(arguments: [String], env: [Node], scenario: Bool) -> Node {
        let quantities: Node = .map([("cpu", .text(settings.cpu)), ("memory", .text(settings.memory))])
        var mounts: [Node] = []
        if scenario {
            mounts.append(
                .map([
                    ("name", .text("scenario")), ("mountPath", .text(Self.scenarioMountPath)),
                    ("readOnly", .bool(true)),
                ]))
        }
        mounts += [
            .map([("name", .text("results")), ("mountPath", .text(Self.resultsMountPath))]),
            .map([("name", .text("home")), ("mountPath", .text("/home/llmperf"))]),
            .map([("name", .text("tmp")), ("mountPath", .text("/tmp"))]),
        ]
        var pairs: [(String, Node)] = [
            ("name", .text("llmperf")),
            ("image", .text(settings.image)),
            ("args", .list(arguments.map(Node.text))),
        ]
        if !env.isEmpty { pairs.append(("env", .list(env))) }
        pairs += [
            ("resources", .map([("requests", quantities), ("limits", quantities)])),
            (
                "securityContext",
                .map([("allowPrivilegeEscalation", .bool(false)), ("readOnlyRootFilesystem", .bool(true))])
            ),
            ("volumeMounts", .list(mounts)),
        ]
        return .map(pairs)
    }

    private func job(
        name: String, component: String, completions: Int, indexed: Bool, container: Node, scenario: Bool
    ) -> Node {
        var volumes: [Node] = []
        if scenario {
            volumes.append(.map([("name", .text("scenario")), ("configMap", .map([("name", .text(configMapName))]))]))
        }
        volumes += [
            .map([("name", .text("results")), ("persistentVolumeClaim", .map([("claimName", .text(claimName))]))]),
            .map([("name", .text("home")), ("emptyDir", .map([]))]),
            .map([("name", .text("tmp")), ("emptyDir", .map([]))]),
        ]
        let podSpec: Node = .map([
            ("restartPolicy", .text("Never")),
            (
                "securityContext",
                .map([("runAsNonRoot", .bool(true)), ("runAsUser", .int(10001)), ("fsGroup", .int(10001))])
            ),
            ("containers", .list([container])),
            ("volumes", .list(volumes)),
        ])
        var spec: [(String, Node)] = []
        if indexed { spec.append(("completionMode", .text("Indexed"))) }
        spec += [
            ("completions", .int(completions)),
            ("parallelism", .int(completions)),
            ("backoffLimit", .int(1)),
            ("template", .map([("metadata", .map([("labels", labels(component: component))])), ("spec", podSpec)])),
        ]
        let annotations: [(String, Node)] = [
            ("llmperf/batch-id", .text(settings.batchID)), ("llmperf/start-at", .text(startText)),
        ]
        return .map([
            ("apiVersion", .text("batch/v1")),
            ("kind", .text("Job")),
            ("metadata", metadata(name, component: component, annotations: annotations)),
            ("spec", .map(spec)),
        ])
    }

    // MARK: - The scenario's values

    /// The text of every scalar (keys and values) of the scenario's YAML, so that `${VAR}` in a comment
    /// is not taken for a variable; the whole text when it is not YAML (loading then says why).
    static func scalarTexts(of text: String) -> [String] {
        guard let documents = try? Yams.compose_all(yaml: text) else { return [text] }
        var texts: [String] = []
        func walk(_ node: Node) {
            switch node {
            case .scalar(let scalar): texts.append(scalar.string)
            case .mapping(let mapping):
                for (key, value) in mapping {
                    walk(key)
                    walk(value)
                }
            case .sequence(let sequence): sequence.forEach(walk)
            case .alias: break
            }
        }
        for document in documents { walk(document) }
        return texts
    }
}

/// Why `kube render` cannot write the manifests (an invalid input: exit 2).
public struct KubeRenderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension Node {
    /// A string that reads back as a string: quoted where a plain scalar would be a number, a boolean or null.
    fileprivate static func text(_ string: String) -> Node {
        let plain = Node.Scalar(string)
        let resolved = Resolver.default.resolveTag(of: .scalar(plain))
        return .scalar(Node.Scalar(string, Tag(.str), resolved == .str ? .any : .doubleQuoted))
    }

    /// Multi-line text as a literal block where YAML allows one (the emitter falls back to quotes otherwise).
    fileprivate static func block(_ string: String) -> Node {
        string.contains("\n") ? .scalar(Node.Scalar(string, Tag(.str), .literal)) : .text(string)
    }

    fileprivate static func int(_ value: Int) -> Node { .scalar(Node.Scalar(String(value), Tag(.int))) }

    fileprivate static func bool(_ value: Bool) -> Node { .scalar(Node.Scalar(value ? "true" : "false", Tag(.bool))) }

    fileprivate static func map(_ pairs: [(String, Node)]) -> Node {
        .mapping(Node.Mapping(pairs.map { (Node.text($0.0), $0.1) }))
    }

    fileprivate static func list(_ nodes: [Node]) -> Node { .sequence(Node.Sequence(nodes)) }
}
