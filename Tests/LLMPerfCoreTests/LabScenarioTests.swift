import Foundation
import Testing

@testable import LLMPerfCore

/// The `lab:` section and the shipped `scenarios/optimizations/` files.
@Suite("Lab scenarios")
struct LabScenarioTests {
    static let directory = ScenarioFilesTests.repositoryRoot.appendingPathComponent("scenarios/optimizations")
    static let expectedFiles = [
        "batching", "connection-reuse", "prefix-cache", "prompt-shortening", "quantization", "response-cache",
        "speculative-decoding", "streaming",
    ]

    static func load(_ name: String) throws(ScenarioError) -> ScenarioDocument {
        try ScenarioLoader.load(path: directory.appendingPathComponent("\(name).yml").path, environment: [:])
    }

    // MARK: the shipped files

    @Test func everyOptimizationHasAFile() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".yml") }.map { String($0.dropLast(4)) }.sorted()
        #expect(files == Self.expectedFiles)
    }

    @Test(arguments: expectedFiles)
    func validatesWithALabSection(_ name: String) throws {
        let document: ScenarioDocument
        do {
            document = try Self.load(name)
        } catch {
            Issue.record(Comment(rawValue: error.description))
            return
        }
        let lab = try #require(document.lab, "\(name) has no lab section")
        #expect(document.runs.count >= 2)
        #expect(document.runs.allSatisfy { $0.name == name })
        let variants = document.runs.compactMap(\.variant)
        #expect(!lab.comparisons.isEmpty)
        for pair in lab.comparisons {
            #expect(variants.contains(pair.before) && variants.contains(pair.after))
        }
        // Every run starts the bundled transformer backend.
        for run in document.runs {
            #expect(run.target.backend?.engine == "transformer")
            #expect(run.target.backend?.model == "default")
            #expect(!run.redactedYAML.contains("lab:"))
        }
        // The variants differ from each other (each is its own setup).
        #expect(Set(document.runs.map(\.hash)).count == document.runs.count)
    }

    /// The `llmperf serve` flag values each case sets, per variant.
    static func options(_ run: Scenario) -> [String: String] {
        Dictionary(
            (run.target.backend?.options ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    @Test func clientSideCasesAreStreamingConnectionReuseAndPromptShortening() throws {
        var client: [String] = []
        for name in Self.expectedFiles where try Self.load(name).lab?.side == .client { client.append(name) }
        #expect(client == ["connection-reuse", "prompt-shortening", "streaming"])
    }

    @Test func streaming() throws {
        let document = try Self.load("streaming")
        let lab = try #require(document.lab)
        #expect(document.runs.map(\.workload.stream) == [false, true])
        #expect(document.runs.allSatisfy { $0.workload.maxTokens == 128 })
        #expect(
            document.runs.allSatisfy {
                $0.workload.extraBody == [RequestBodyField(key: "ignore_eos", value: .bool(true))]
            })
        #expect(lab.metric == LabMetric(measure: .metric(.ttft), statistic: "p50"))
        #expect(lab.movesText == "time to first visible token p50")
        #expect(lab.expectation == .factor(5))
        #expect(lab.comparisons == [LabComparison(before: "whole-answer", after: "streamed", expectation: .factor(5))])
    }

    @Test func connectionReuseIsOverHTTPS() throws {
        let document = try Self.load("connection-reuse")
        #expect(document.runs.allSatisfy { $0.target.backend?.tls == true })
        #expect(document.runs.map(\.target.connection) == [.new, .reuse])
    }

    @Test func promptShorteningTurnsThePrefixCacheOffInBoth() throws {
        let document = try Self.load("prompt-shortening")
        #expect(document.runs.allSatisfy { Self.options($0)["prefix-cache"] == "off" })
        let long = try #require(document.runs[0].workload.prompts.first?.system)
        let short = try #require(document.runs[1].workload.prompts.first?.system)
        #expect(long.count > 4 * short.count)
        #expect(document.runs[0].workload.prompts.map(\.user) == document.runs[1].workload.prompts.map(\.user))
    }

    @Test func responseCacheMeasuresRepeatsOnly() throws {
        let document = try Self.load("response-cache")
        for run in document.runs {
            // Prompts cycle by request index: a warmup of one request per prompt makes every
            // measured request a repeat.
            #expect(run.load.warmup >= run.workload.prompts.count)
            #expect(run.workload.temperature == 0)
        }
        #expect(document.runs.map { Self.options($0)["response-cache"] } == ["off", "on"])
        #expect(document.lab?.expectation == .bound(5))
    }

    @Test func prefixCacheSharesALongSystemPrompt() throws {
        let document = try Self.load("prefix-cache")
        let run = document.runs[0]
        let systems = Set(run.workload.prompts.map { $0.system ?? "" })
        #expect(systems.count == 1)
        // About 500 tokens of the default model's tokenizer: 350 to 400 English words.
        let words = try #require(systems.first).split(whereSeparator: \.isWhitespace).count
        #expect((350...420).contains(words), "\(words) words")
        #expect(Set(run.workload.prompts.map(\.user)).count >= 12)
        #expect(document.runs.allSatisfy { $0.load.shape == .closed(concurrency: 1) })
        #expect(document.runs.map { Self.options($0)["prefix-cache"] } == ["off", "on"])
        #expect(document.runs.allSatisfy { Self.options($0)["weights"] == "f32" })
        #expect(document.lab?.expectation == .factor(3))
    }

    @Test func batchingAtConcurrencyEight() throws {
        let document = try Self.load("batching")
        let lab = try #require(document.lab)
        #expect(document.runs.allSatisfy { $0.load.shape == .closed(concurrency: 8) })
        #expect(document.runs.map { Self.options($0)["batching"] } == ["off", "continuous"])
        #expect(document.runs.allSatisfy { Self.options($0)["weights"] == "f32" })
        #expect(lab.metric == LabMetric(measure: .outputTokensPerSecond, statistic: nil))
        #expect(lab.movesText == "output tokens per second")
        #expect(lab.expectation == .factor(2.5))
    }

    @Test func speculativeDecodingComparesEachDrafterOnBothPrompts() throws {
        let document = try Self.load("speculative-decoding")
        let lab = try #require(document.lab)
        #expect(
            document.runs.compactMap(\.variant) == [
                "plain-grounded", "ngram-grounded", "self-grounded", "plain-open", "ngram-open", "self-open",
                "self8-open", "file-open", "plain-busy", "self-busy",
            ])
        #expect(
            document.runs.map { Self.options($0)["speculative"] } == [
                "off", "ngram", "self:q4_0", "off", "ngram", "self:q4_0", "self:q8_0", "draft:default", "off",
                "self:q4_0",
            ])
        #expect(document.runs.allSatisfy { Self.options($0)["draft-tokens"] == "4" })
        // One client at a time, except the pair that shows speculation under load.
        #expect(document.runs.prefix(8).allSatisfy { $0.load.shape == .closed(concurrency: 1) })
        #expect(document.runs.suffix(2).allSatisfy { $0.load.shape == .closed(concurrency: 8) })
        let grounded = document.runs[0].workload.prompts
        let open = document.runs[3].workload.prompts
        #expect(grounded != open)
        #expect(grounded.first?.user.hasPrefix("Repeat the following passage") == true)
        #expect(document.runs[4...].allSatisfy { $0.workload.prompts == open })
        #expect(
            lab.comparisons == [
                LabComparison(
                    before: "plain-grounded", after: "ngram-grounded", label: "n-gram, grounded prompt",
                    expectation: .factor(1.5)),
                LabComparison(
                    before: "plain-grounded", after: "self-grounded", label: "self q4_0 draft, grounded prompt",
                    expectation: .factor(1.8)),
                LabComparison(before: "plain-open", after: "ngram-open", label: "n-gram, open prompt"),
                LabComparison(
                    before: "plain-open", after: "self-open", label: "self q4_0 draft, open prompt",
                    expectation: .factor(1.8)),
                LabComparison(before: "plain-open", after: "self8-open", label: "self q8_0 draft, open prompt"),
                LabComparison(before: "plain-open", after: "file-open", label: "the Q4_1 file as draft, open prompt"),
                LabComparison(before: "plain-busy", after: "self-busy", label: "self q4_0 draft, 8 clients at once"),
            ])
    }

    @Test func quantizationAgainstF32() throws {
        let document = try Self.load("quantization")
        let lab = try #require(document.lab)
        #expect(document.runs.map { Self.options($0)["weights"] } == ["f32", "f16", "q8_0", "q4_0"])
        #expect(lab.comparisons.map(\.before) == ["f32", "f32", "f32"])
        #expect(lab.comparisons.map(\.expectation) == [nil, nil, .factor(2)])
        #expect(lab.metric.key == "tpot.p50")
    }

    // MARK: the lab section

    static let path = "scenarios/x.yml"

    static func document(lab: String, variants: String = "variants:\n  off: {}\n  on:\n    workload: {stream: false}\n")
        -> String
    {
        """
        version: 1
        name: x
        target:
          backend: local
          engine: synthetic
        workload:
          prompts: ["hi"]
        load:
          concurrency: 1
          requests: 4
        \(variants)lab:
        \(lab)
        """
    }

    static func message(_ yaml: String) -> String? {
        do {
            _ = try ScenarioLoader.load(yaml: yaml, path: path, environment: [:])
            return nil
        } catch {
            return error.description
        }
    }

    static func lab(_ yaml: String) throws -> LabSpec? {
        try ScenarioLoader.load(yaml: yaml, path: path, environment: [:]).lab
    }

    @Test func defaultsCompareEveryVariantWithTheFirst() throws {
        let yaml = Self.document(
            lab: "  metric: ttft.p95\n  side: server\n  expect: 2x",
            variants: "variants:\n  a: {}\n  b: {load: {concurrency: 2}}\n  c: {load: {concurrency: 3}}\n")
        let lab = try #require(try Self.lab(yaml))
        #expect(lab.optimization == "x")
        #expect(lab.moves == "TTFT")
        #expect(lab.movesText == "TTFT p95")
        #expect(
            lab.comparisons == [
                LabComparison(before: "a", after: "b", expectation: .factor(2)),
                LabComparison(before: "a", after: "c", expectation: .factor(2)),
            ])
    }

    @Test func explicitPairsInheritTheSectionsExpectation() throws {
        let yaml = Self.document(
            lab: """
                  optimization: my switch
                  moves: time per output token
                  metric: tpot.mean
                  side: client
                  expect: "<= 20ms"
                  compare:
                    - {before: on, after: off, label: reversed}
                    - {before: off, after: on, expect: 1.25x}
                """)
        let lab = try #require(try Self.lab(yaml))
        #expect(lab.optimization == "my switch")
        #expect(lab.side == .client)
        #expect(lab.metric == LabMetric(measure: .metric(.tpot), statistic: "mean"))
        #expect(
            lab.comparisons == [
                LabComparison(before: "on", after: "off", label: "reversed", expectation: .bound(20)),
                LabComparison(before: "off", after: "on", expectation: .factor(1.25)),
            ])
    }

    @Test func throughputBoundsAreLowerLimits() throws {
        let yaml = Self.document(lab: "  metric: output_tokens_per_s\n  side: server\n  expect: \">= 150\"")
        #expect(try Self.lab(yaml)?.expectation == .bound(150))
        let wrongWay = Self.document(lab: "  metric: output_tokens_per_s\n  side: server\n  expect: \"<= 150\"")
        #expect(
            Self.message(wrongWay)
                == "scenarios/x.yml:18:11: lab.expect: expected an improvement factor such as 2x, or a bound on the after value such as \">= 100\", got '<= 150'"
        )
    }

    @Test func unknownLabKeyIsPositionedWithASuggestion() {
        let yaml = Self.document(lab: "  metric: ttft.p50\n  side: client\n  expct: 2x")
        #expect(Self.message(yaml) == "scenarios/x.yml:18:3: lab.expct: unknown key; did you mean 'expect'?")
    }

    @Test func unknownMetricSuggestsTheClosest() {
        let yaml = Self.document(lab: "  metric: tfft.p50\n  side: client")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:16:11: lab.metric: unknown metric 'tfft.p50'; did you mean 'ttft.p50'?")
        let far = Self.document(lab: "  metric: goodput\n  side: client")
        #expect(
            Self.message(far)
                == "scenarios/x.yml:16:11: lab.metric: unknown metric 'goodput'; expected METRIC.STAT (such as ttft.p50; statistics p50, p90, p95, p99, mean) or output_tokens_per_s, requests_per_s"
        )
    }

    @Test func missingAndWrongSide() {
        #expect(
            Self.message(Self.document(lab: "  metric: ttft.p50"))
                == "scenarios/x.yml:16:3: lab.side: missing required key; expected client (works against any endpoint) or server (needs the bundled backend)"
        )
        #expect(
            Self.message(Self.document(lab: "  metric: ttft.p50\n  side: clinet"))
                == "scenarios/x.yml:17:9: lab.side: expected one of client, server, got 'clinet'; did you mean 'client'?"
        )
        #expect(
            Self.message(Self.document(lab: "  side: client"))
                == "scenarios/x.yml:16:3: lab.metric: missing required key; expected a metric such as ttft.p50")
    }

    @Test func comparedVariantsMustExist() {
        let yaml = Self.document(
            lab: "  metric: ttft.p50\n  side: client\n  compare:\n    - {before: off, after: onn}")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:19:28: lab.compare.0.after: no variant named 'onn'; did you mean 'on'?")
        let far = Self.document(
            lab: "  metric: ttft.p50\n  side: client\n  compare:\n    - {before: baseline, after: on}")
        #expect(
            Self.message(far)
                == "scenarios/x.yml:19:16: lab.compare.0.before: no variant named 'baseline'; the variants are off, on")
        let same = Self.document(lab: "  metric: ttft.p50\n  side: client\n  compare:\n    - {before: on, after: on}")
        #expect(
            Self.message(same)
                == "scenarios/x.yml:19:27: lab.compare.0.after: is the same variant as before ('on'); compare two different variants"
        )
        let missing = Self.document(lab: "  metric: ttft.p50\n  side: client\n  compare:\n    - {before: on}")
        #expect(
            Self.message(missing)
                == "scenarios/x.yml:19:7: lab.compare.0.after: missing required key; expected a variant name")
    }

    @Test func badExpectations() {
        for (text, column) in [("0.5x", 11), ("fast", 11), ("\"< 5\"", 11)] {
            let yaml = Self.document(lab: "  metric: ttft.p50\n  side: client\n  expect: \(text)")
            #expect(
                Self.message(yaml)
                    == "scenarios/x.yml:18:\(column): lab.expect: expected an improvement factor such as 2x, or a bound on the after value such as \"<= 5ms\", got '\(text.replacingOccurrences(of: "\"", with: ""))'"
            )
        }
    }

    @Test func labNeedsTwoVariantsAndStaysOutOfVariants() {
        let noVariants = Self.document(lab: "  metric: ttft.p50\n  side: client", variants: "")
        #expect(
            Self.message(noVariants)
                == "scenarios/x.yml:11:1: lab: needs variants to compare (a baseline and an optimized one)")
        let oneVariant = Self.document(lab: "  metric: ttft.p50\n  side: client", variants: "variants:\n  only: {}\n")
        #expect(
            Self.message(oneVariant)
                == "scenarios/x.yml:14:3: lab: needs at least two variants to compare (a baseline and an optimized one), got 1"
        )
        let inVariant = Self.document(
            lab: "  metric: ttft.p50\n  side: client",
            variants: "variants:\n  off: {}\n  on:\n    lab: {side: server}\n")
        #expect(Self.message(inVariant) == "scenarios/x.yml:14:5: variants.on.lab: cannot be set in a variant")
    }

    @Test func labDoesNotChangeTheRunsOrTheirHashes() throws {
        let with = try ScenarioLoader.load(
            yaml: Self.document(lab: "  metric: ttft.p50\n  side: client"), path: Self.path, environment: [:])
        let without = try ScenarioLoader.load(
            yaml: Self.document(lab: "").replacingOccurrences(of: "lab:\n", with: ""), path: Self.path,
            environment: [:])
        #expect(without.lab == nil)
        #expect(with.runs == without.runs)
    }

    // MARK: --only and --target

    @Test func onlySelectsByFileNameInListOrder() throws {
        let available = ["batching", "prefix-cache", "streaming"]
        #expect(try LabPlan.select(only: [], available: available) == available)
        #expect(try LabPlan.select(only: ["streaming,batching"], available: available) == ["batching", "streaming"])
        #expect(
            try LabPlan.select(only: ["streaming", " prefix-cache "], available: available) == [
                "prefix-cache", "streaming",
            ])
        #expect(
            throws: LabPlan.SelectionError(
                description:
                    "--only: no optimization named 'streamin'; did you mean 'streaming'? The valid names are: batching, prefix-cache, streaming"
            )
        ) { try LabPlan.select(only: ["streamin"], available: available) }
        #expect(
            throws: LabPlan.SelectionError(
                description:
                    "--only: no optimization named 'speculative'. The valid names are: batching, prefix-cache, streaming"
            )
        ) { try LabPlan.select(only: ["speculative"], available: available) }
        #expect(
            throws: LabPlan.SelectionError(
                description: "--only: name at least one of batching, prefix-cache, streaming")
        ) {
            try LabPlan.select(only: [","], available: available)
        }
    }

    @Test func clientSideCasesComeFirst() {
        let ordered = LabPlan.ordered([
            (name: "batching", side: .server), (name: "streaming", side: .client),
            (name: "connection-reuse", side: .client), (name: "all", side: .server),
        ])
        #expect(ordered == ["connection-reuse", "streaming", "all", "batching"])
    }

    @Test func headersExpandVariablesAndAreSecretWhenTheyDo() throws {
        let env = ["KEY": "sk-1"]
        #expect(
            try LabPlan.header("Authorization: Bearer ${KEY}", environment: env)
                == HeaderSpec(name: "Authorization", value: "Bearer sk-1", template: "Bearer ${KEY}", isSecret: true))
        #expect(
            try LabPlan.header("X-Team:  perf ", environment: env)
                == HeaderSpec(name: "X-Team", value: "perf", template: "perf", isSecret: false))
        #expect(
            throws: LabPlan.SelectionError(description: "--header: expected 'Name: value', got 'nocolon'")
        ) { try LabPlan.header("nocolon", environment: env) }
        #expect(
            throws: LabPlan.SelectionError(description: "--header Authorization: environment variable NOPE is not set")
        ) { try LabPlan.header("Authorization: ${NOPE}", environment: env) }
    }

    @Test func targetURLMustBeHTTP() throws {
        #expect(
            try LabPlan.targetURL("${BASE:-http://127.0.0.1:9/v1}", environment: [:]) == (
                "http://127.0.0.1:9/v1", "${BASE:-http://127.0.0.1:9/v1}"
            ))
        #expect(try LabPlan.targetURL("https://h/v1", environment: [:]) == ("https://h/v1", "https://h/v1"))
        #expect(
            throws: LabPlan.SelectionError(
                description: "--target: expected an http or https URL such as https://api.example.com/v1, got 'ftp://h'"
            )
        ) { try LabPlan.targetURL("ftp://h", environment: [:]) }
    }

    @Test func retargetingReplacesTheBackendAndDropsExtraBody() throws {
        let run = try Self.load("streaming").runs[1]
        let header = HeaderSpec(name: "Authorization", value: "Bearer sk-1", template: "Bearer ${KEY}", isSecret: true)
        let moved = LabPlan.retargeted(
            run, url: "https://api.example.com/v1", model: "gpt-x", headers: [header])
        #expect(moved.target.backend == nil)
        #expect(moved.target.url == "https://api.example.com/v1")
        #expect(moved.target.model == "gpt-x")
        #expect(moved.target.headers == [header])
        #expect(moved.workload.extraBody.isEmpty)
        #expect(moved.workload.stream == run.workload.stream)
        #expect(moved.load == run.load)
        #expect(moved.hash != run.hash && moved.hash.count == 64)
        #expect(!moved.redactedYAML.contains("sk-1"))
        #expect(
            moved.redactedYAML.hasPrefix(
                "# llmperf lab --target: sent to https://api.example.com/v1 as model gpt-x with headers Authorization: <redacted> (this file's target section was not used, nor workload.extra_body)\nversion: 1\n"
            ))
    }

    @Test func aDeviceMovesEveryLocalTransformerBackendAndNothingElse() throws {
        let run = try Self.load("quantization").runs[1]
        #expect(run.target.backend?.options.contains { $0.key == "device" } == false)
        let moved = LabPlan.onDevice(run, device: "vulkan:1")
        #expect(moved.target.backend?.options.filter { $0.key == "device" }.map(\.value) == ["vulkan:1"])
        #expect(moved.target.backend?.serveArguments.suffix(2) == ["--device", "vulkan:1"])
        #expect(moved.hash != run.hash && moved.hash.count == 64)
        #expect(moved.redactedYAML.hasPrefix("# llmperf lab --device vulkan:1: the local backend ran on this device\n"))
        #expect(moved.workload == run.workload && moved.load == run.load)
        // The option replaces the scenario's own.
        let again = LabPlan.onDevice(moved, device: "cpu")
        #expect(again.target.backend?.options.filter { $0.key == "device" }.map(\.value) == ["cpu"])
        // A remote target and the synthetic engine have no device to move.
        let remote = LabPlan.retargeted(run, url: "https://api.example.com/v1", model: "m", headers: [])
        #expect(LabPlan.onDevice(remote, device: "vulkan").hash == remote.hash)
        var synthetic = run
        synthetic.target.backend?.engine = "synthetic"
        #expect(LabPlan.onDevice(synthetic, device: "vulkan").target.backend == synthetic.target.backend)
    }
}
