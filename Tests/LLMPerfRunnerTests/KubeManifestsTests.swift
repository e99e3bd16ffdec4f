import Foundation
import LLMPerfRunner
import Testing
import Yams

/// `kube render`'s manifests: what each object says, secrets by reference only, the input checks, and every
/// document checked against Kubernetes' strict JSON schemas (Fixtures/kubernetes, as kubeconform would).
@Suite("Kube manifests")
struct KubeManifestsTests {
    static let startAt = KubeManifests.parseTime("2026-12-06T23:00:00Z")!
    static let batchID = KubeManifests.batchID(name: "bench", at: KubeManifests.parseTime("2026-12-06T22:58:00Z")!)

    static let plainScenario = """
        # A scenario with no variables. ${NOT_A_VARIABLE} in a comment is not one.
        version: 1
        name: kube-test
        target:
          url: http://llm.example.svc:8000/v1
          api: openai-chat
          model: "8"
        workload:
          prompts: ["Say hi.", "x: 'quoted' and \\"double\\"  "]
          max_tokens: 16
        load:
          concurrency: 16
          requests: 40

        """

    static let secretScenario = """
        version: 1
        name: kube-secret
        target:
          url: ${BASE_URL:-https://api.example.com/v1}
          api: openai-chat
          model: gpt-4o-mini
          headers:
            Authorization: Bearer ${API_KEY}
        workload:
          prompts: ["Say hi."]
          max_tokens: 16
        load:
          concurrency: 8
          requests: 20
        """

    static func settings(shards: Int = 8, secret: String? = nil) -> KubeManifests.Settings {
        KubeManifests.Settings(
            name: "bench", image: "llmperf:test", shards: shards, secret: secret, startAt: startAt, batchID: batchID)
    }

    static func render(
        _ text: String = plainScenario, _ settings: KubeManifests.Settings = settings()
    ) throws -> (yaml: String, documents: [JSONValue]) {
        let yaml = try KubeManifests(settings: settings, scenarioText: text, scenarioPath: "kube-test.yml").render()
        return (yaml, try documents(yaml))
    }

    static func documents(_ yaml: String) throws -> [JSONValue] {
        try Yams.compose_all(yaml: yaml).map(JSONValue.init)
    }

    static func document(_ documents: [JSONValue], kind: String, name: String) throws -> JSONValue {
        try #require(documents.first { $0["kind"]?.string == kind && $0["metadata"]?["name"]?.string == name })
    }

    static func container(_ job: JSONValue) throws -> JSONValue {
        try #require(job["spec"]?["template"]?["spec"]?["containers"]?[0])
    }

    @Test func fourDocumentsThatParseAsYAML() throws {
        let (yaml, documents) = try Self.render()
        #expect(documents.map { $0["kind"]?.string } == ["ConfigMap", "PersistentVolumeClaim", "Job", "Job"])
        #expect(yaml.hasPrefix("# llmperf kube render"))
        #expect(yaml.contains("kubectl cp bench-fetch:/results/merged.sqlite merged.sqlite"))
    }

    @Test func theConfigMapHoldsTheScenarioByteForByte() throws {
        for text in [
            Self.plainScenario, Self.plainScenario.trimmingCharacters(in: .newlines),
            Self.plainScenario.replacingOccurrences(of: "max_tokens: 16", with: "max_tokens: 16   \t"),
            Self.plainScenario + "\n\n",
        ] {
            let (_, documents) = try Self.render(text)
            let configMap = try Self.document(documents, kind: "ConfigMap", name: "bench-scenario")
            #expect(configMap["data"]?["scenario.yml"]?.string == text)
        }
    }

    @Test func theShardJobIsIndexedAndEveryShardRunsItsShare() throws {
        let (_, documents) = try Self.render()
        let job = try Self.document(documents, kind: "Job", name: "bench")
        let spec = try #require(job["spec"])
        #expect(spec["completionMode"]?.string == "Indexed")
        #expect(spec["completions"] == .integer(8))
        #expect(spec["parallelism"] == .integer(8))
        #expect(spec["template"]?["spec"]?["restartPolicy"]?.string == "Never")
        #expect(spec["template"]?["spec"]?["securityContext"]?["runAsUser"] == .integer(10001))
        let container = try Self.container(job)
        #expect(
            container["args"]?.array?.compactMap(\.string) == [
                "run", "/scenario/scenario.yml", "--shard", "$(SHARD_INDEX)/8", "--start-at", "2026-12-06T23:00:00Z",
                "--batch-id", "bench-20261206T225800Z", "--db", "/results/shard-$(SHARD_INDEX).sqlite", "--quiet",
            ])
        let index = try #require(container["env"]?[0])
        #expect(index["name"]?.string == "SHARD_INDEX")
        #expect(
            index["valueFrom"]?["fieldRef"]?["fieldPath"]?.string
                == "metadata.annotations['batch.kubernetes.io/job-completion-index']")
        #expect(container["resources"]?["limits"]?["cpu"] == .string("2"))
        #expect(job["metadata"]?["annotations"]?["llmperf/batch-id"]?.string == "bench-20261206T225800Z")
        let mounts = container["volumeMounts"]?.array ?? []
        #expect(mounts.contains { $0["mountPath"]?.string == "/scenario" && $0["readOnly"] == .bool(true) })
        #expect(mounts.contains { $0["mountPath"]?.string == "/results" })
        let volumes = spec["template"]?["spec"]?["volumes"]?.array ?? []
        #expect(volumes.contains { $0["configMap"]?["name"]?.string == "bench-scenario" })
        #expect(volumes.contains { $0["persistentVolumeClaim"]?["claimName"]?.string == "bench-results" })
    }

    @Test func theMergeJobWaitsForTheShardsOnTheSameClaim() throws {
        let (_, documents) = try Self.render()
        let merge = try Self.document(documents, kind: "Job", name: "bench-merge")
        #expect(merge["spec"]?["completions"] == .integer(1))
        #expect(merge["spec"]?["completionMode"] == nil)
        #expect(
            try Self.container(merge)["args"]?.array?.compactMap(\.string) == [
                "merge", "/results", "--into", "/results/merged.sqlite", "--wait", "2h",
            ])
        #expect(merge["metadata"]?["annotations"]?["llmperf/batch-id"]?.string == "bench-20261206T225800Z")
        let volumes = merge["spec"]?["template"]?["spec"]?["volumes"]?.array ?? []
        #expect(volumes.contains { $0["persistentVolumeClaim"]?["claimName"]?.string == "bench-results" })
        let claim = try Self.document(documents, kind: "PersistentVolumeClaim", name: "bench-results")
        #expect(claim["spec"]?["accessModes"] == .array([.string("ReadWriteMany")]))
        #expect(claim["spec"]?["resources"]?["requests"]?["storage"] == .string("1Gi"))
        #expect(claim["spec"]?["storageClassName"] == nil)
    }

    @Test func optionsReachTheirFields() throws {
        var settings = Self.settings(shards: 3)
        settings.namespace = "perf"
        settings.storageClass = "nfs-client"
        settings.storage = "5Gi"
        settings.cpu = "500m"
        settings.memory = "2Gi"
        let (yaml, documents) = try Self.render(Self.plainScenario, settings)
        #expect(documents.allSatisfy { $0["metadata"]?["namespace"]?.string == "perf" })
        let claim = try Self.document(documents, kind: "PersistentVolumeClaim", name: "bench-results")
        #expect(claim["spec"]?["storageClassName"]?.string == "nfs-client")
        #expect(claim["spec"]?["resources"]?["requests"]?["storage"]?.string == "5Gi")
        let container = try Self.container(try Self.document(documents, kind: "Job", name: "bench"))
        #expect(container["resources"]?["requests"]?["cpu"]?.string == "500m")
        #expect(container["resources"]?["requests"]?["memory"]?.string == "2Gi")
        #expect(container["args"]?[3]?.string == "$(SHARD_INDEX)/3")
        #expect(yaml.contains("kubectl -n perf wait --for=condition=complete job/bench-merge"))
    }

    @Test func secretsGoByReferenceAndTheirValuesNowhere() throws {
        // The render takes no environment, so no value can reach it: this process's environment is left alone
        // (tests run in parallel), and KubeRenderCommandTests sets a value for the real command and checks that
        // it is printed nowhere. Here: only the placeholders the check loads with, never a value: field.
        let (yaml, documents) = try Self.render(Self.secretScenario, Self.settings(secret: "llm-keys"))
        #expect(!yaml.contains("placeholder"))
        #expect(!yaml.contains("value:"))
        let env = try Self.container(try Self.document(documents, kind: "Job", name: "bench"))["env"]?.array ?? []
        #expect(env.compactMap { $0["name"]?.string } == ["SHARD_INDEX", "BASE_URL", "API_KEY"])
        let apiKey = try #require(env.first { $0["name"]?.string == "API_KEY" })
        #expect(
            apiKey["valueFrom"]?["secretKeyRef"]
                == .object([(key: "name", value: .string("llm-keys")), (key: "key", value: .string("API_KEY"))]))
        #expect(apiKey["value"] == nil)
        // A variable with a fallback may be missing from the Secret.
        let baseURL = try #require(env.first { $0["name"]?.string == "BASE_URL" })
        #expect(baseURL["valueFrom"]?["secretKeyRef"]?["optional"] == .bool(true))
        // The merge needs no secret.
        let merge = try Self.container(try Self.document(documents, kind: "Job", name: "bench-merge"))
        #expect(merge["env"] == nil)
    }

    @Test func variablesWithoutASecretAreAnErrorNamingThem() throws {
        let error = #expect(throws: KubeRenderError.self) {
            try KubeManifests(settings: Self.settings(), scenarioText: Self.secretScenario, scenarioPath: "s.yml")
                .render()
        }
        #expect(error?.description.contains("BASE_URL, API_KEY") == true)
        #expect(error?.description.contains("--secret") == true)
        // A ${VAR} in a comment is not a variable of the scenario.
        #expect(
            KubeManifests(settings: Self.settings(), scenarioText: Self.plainScenario, scenarioPath: "s").variables
                .isEmpty)
    }

    @Test func badInputsAreClearErrors() {
        func message(_ change: (inout KubeManifests.Settings) -> Void, text: String = Self.plainScenario) -> String {
            var settings = Self.settings()
            change(&settings)
            do {
                _ = try KubeManifests(settings: settings, scenarioText: text, scenarioPath: "s.yml").render()
                return "rendered"
            } catch {
                return error.description
            }
        }
        #expect(message { $0.shards = 0 }.contains("--shards must be between 1 and 1000, got 0"))
        #expect(message { $0.shards = 1001 }.contains("--shards"))
        #expect(message { $0.name = "Bench" }.contains("--name must be a DNS-1123 label"))
        #expect(message { $0.name = String(repeating: "a", count: 53) }.contains("at most 52"))
        #expect(message { $0.name = "bench-" }.contains("--name"))
        #expect(message { $0.image = " " }.contains("--image"))
        #expect(message { $0.namespace = "Perf_1" }.contains("--namespace"))
        #expect(message { $0.memory = "lots" }.contains("--memory expects a Kubernetes quantity"))
        #expect(message { $0.cpu = "0" }.contains("--cpu"))
        #expect(message { $0.storage = "1Gb" }.contains("--storage"))
        #expect(message({ _ in }, text: "version: 1\nname: x\nbogus: 1\n").contains("the scenario does not load"))
        #expect(message({ $0.secret = "k" }, text: "version: 1\nname: ${SHARD_INDEX}\n").contains("SHARD_INDEX"))
        #expect(message { $0.name = String(repeating: "a", count: 52) } == "rendered")
        // Shards share one endpoint, and each needs a slot of a closed loop.
        let local =
            "version: 1\nname: x\ntarget: { backend: local, engine: synthetic }\nworkload: { prompts: [a] }\n"
            + "load: { concurrency: 16, requests: 4 }\n"
        #expect(message({ _ in }, text: local).contains("starts a local backend, which every shard pod would start"))
        #expect(
            message { $0.shards = 17 }.contains("a closed loop of concurrency 16 cannot be split into 17 shards"))
    }

    @Test func startTimesAndBatchIDs() {
        #expect(KubeManifests.parseTime("2026-12-06T23:00:00Z") == Self.startAt)
        #expect(KubeManifests.parseTime("2026-12-07T00:00:00+01:00") == Self.startAt)
        #expect(KubeManifests.parseTime("2026-12-06T23:00:00.250Z") == Self.startAt.addingTimeInterval(0.25))
        for bad in ["tomorrow", "2026-12-06", "2026-12-06 23:00", "23:00:00Z", ""] {
            #expect(KubeManifests.parseTime(bad) == nil, "\(bad)")
        }
        #expect(KubeManifests.timestamp(Self.startAt) == "2026-12-06T23:00:00Z")
        #expect(Self.batchID == "bench-20261206T225800Z")
    }

    // MARK: - Kubernetes' schemas

    static let schemas = [
        "ConfigMap": "configmap-v1", "PersistentVolumeClaim": "persistentvolumeclaim-v1", "Job": "job-batch-v1",
    ]

    static func schemaErrors(_ documents: [JSONValue]) throws -> [String] {
        var found: [String] = []
        for document in documents {
            let kind = try #require(document["kind"]?.string)
            let schema = try JSONSchemaCheck.fixture(try #require(schemas[kind], "no schema for \(kind)"))
            found += schema.errors(in: document).map { "\(kind) \(document["metadata"]?["name"]?.string ?? ""): \($0)" }
        }
        return found
    }

    @Test func everyDocumentConformsToKubernetesStrictSchemas() throws {
        var settings = Self.settings(secret: "llm-keys")
        settings.namespace = "perf"
        settings.storageClass = "standard"
        for (text, settings) in [(Self.plainScenario, Self.settings()), (Self.secretScenario, settings)] {
            let (_, documents) = try Self.render(text, settings)
            #expect(try Self.schemaErrors(documents) == [])
        }
    }

    @Test func theSchemaCheckCatchesABrokenManifest() throws {
        let (yaml, _) = try Self.render()
        func errors(_ from: String, _ to: String) throws -> [String] {
            #expect(yaml.contains(from), "\(from)")
            return try Self.schemaErrors(Self.documents(yaml.replacingOccurrences(of: from, with: to)))
        }
        #expect(
            try errors("completionMode:", "completionsMode:") == [
                "Job bench: spec: additional property 'completionsMode' is not allowed"
            ])
        #expect(
            try errors("parallelism: 8", "parallelism: \"8\"") == [
                "Job bench: spec.parallelism: expected integer or null, got string \"8\""
            ])
        #expect(
            try errors("restartPolicy: Never", "restartPolicy: 7").contains {
                $0.hasSuffix("spec.template.spec.restartPolicy: expected string or null, got integer 7")
            })
        #expect(
            try errors("fieldPath:", "fieldpath:").contains {
                $0.contains(
                    "spec.template.spec.containers[0].env[0].valueFrom.fieldRef: missing required property 'fieldPath'")
            })
        #expect(
            try errors("apiVersion: v1\nkind: PersistentVolumeClaim", "apiVersion: v2\nkind: PersistentVolumeClaim")
                == [
                    "PersistentVolumeClaim bench-results: apiVersion: string \"v2\" is not one of string \"v1\""
                ])
    }
}
