import Foundation
import Testing

/// `deploy/` kept honest without Docker or a cluster: the Dockerfile's rules (in the spirit of hadolint) and the
/// libraries the binary needs, the Kubernetes probes, and a Grafana dashboard whose every metric is one that
/// `llmperf run --metrics-listen` or `llmperf serve` really exposes.
@Suite(.serialized) struct DeployFilesTests {
    static let deploy = LLMPerfProcess.repositoryRoot.appendingPathComponent("deploy")

    /// One instruction of a Dockerfile: its keyword (upper case) and the rest, continuation lines joined.
    struct Instruction {
        var keyword: String
        var arguments: String
    }

    /// The Dockerfile's instructions, split into stages at each FROM.
    static func dockerfileStages() throws -> [[Instruction]] {
        let text = try String(contentsOf: deploy.appendingPathComponent("Dockerfile"), encoding: .utf8)
        var stages: [[Instruction]] = []
        var logical = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                logical += line.dropLast() + " "
                continue
            }
            logical += line
            let words = logical.split(separator: " ", maxSplits: 1)
            logical = ""
            guard let first = words.first else { continue }
            let instruction = Instruction(
                keyword: first.uppercased(), arguments: words.count > 1 ? String(words[1]) : "")
            if instruction.keyword == "FROM" { stages.append([]) }
            guard !stages.isEmpty else { continue }
            stages[stages.count - 1].append(instruction)
        }
        return stages
    }

    @Test func theDockerfileFollowsTheRules() throws {
        let stages = try Self.dockerfileStages()
        #expect(stages.count >= 2, "a builder stage and a runtime stage")
        var aliases: [String] = []
        for stage in stages {
            // FROM image:tag [AS name]: pinned to a tag, never latest.
            let from = stage[0].arguments.split(separator: " ").map(String.init)
            let image = try #require(from.first)
            let tag = image.split(separator: "/").last.flatMap {
                $0.split(separator: ":", maxSplits: 1).dropFirst().first
            }
            #expect(tag != nil && tag != "latest", "FROM \(image): pin a version tag")
            if from.count == 3, from[1].uppercased() == "AS" { aliases.append(from[2]) }
            for instruction in stage {
                #expect(instruction.keyword != "ADD", "ADD \(instruction.arguments): use COPY")
                guard instruction.keyword == "RUN", instruction.arguments.contains("apt-get install") else { continue }
                let run = instruction.arguments
                #expect(run.contains("--no-install-recommends"), "RUN \(run)")
                #expect(run.contains("apt-get update"), "apt-get update in the same RUN: \(run)")
                #expect(run.contains("rm -rf /var/lib/apt/lists/*"), "the lists removed in the same RUN: \(run)")
            }
        }
        let builder = try #require(aliases.first, "the builder stage is named (FROM … AS builder)")
        let build = stages[0]
        #expect(build[0].arguments.hasPrefix("swift:6.3") && build[0].arguments.contains("bookworm"))
        #expect(
            build.contains { $0.keyword == "RUN" && $0.arguments.contains("swift build -c release --product llmperf") })
        let runtime = try #require(stages.last)
        #expect(runtime[0].arguments.hasPrefix("debian:bookworm"))
        let installed = Self.installedPackages(runtime)
        #expect(installed.isSuperset(of: ["libcurl4", "libsqlite3-0", "ca-certificates"]), "\(installed)")
        for copy in runtime where copy.keyword == "COPY" {
            #expect(
                copy.arguments.hasPrefix("--from=\(builder) "),
                "the runtime copies only from the builder: \(copy.arguments)")
        }
        #expect(!runtime.contains { $0.keyword == "ADD" })
        let user = try #require(runtime.lastIndex { $0.keyword == "USER" }, "a USER in the runtime stage")
        #expect(
            !["root", "0"].contains(runtime[user].arguments.split(separator: ":").first.map(String.init) ?? "root"))
        let entry = try #require(runtime.firstIndex { $0.keyword == "ENTRYPOINT" || $0.keyword == "CMD" })
        #expect(user < entry, "USER before the entrypoint")
        let expose = runtime.filter { $0.keyword == "EXPOSE" }.flatMap { $0.arguments.split(separator: " ") }
        #expect(expose.contains("8000"))
        let health = try #require(runtime.first { $0.keyword == "HEALTHCHECK" }, "a HEALTHCHECK")
        #expect(health.arguments.contains("CMD") && health.arguments.contains("127.0.0.1:8000/health"))
        if health.arguments.contains("\"curl\"") {
            #expect(installed.contains("curl"), "the probe's curl is installed")
        }
    }

    /// The packages a stage's RUNs install with apt-get.
    static func installedPackages(_ stage: [Instruction]) -> Set<String> {
        var packages: Set<String> = []
        for run in stage where run.keyword == "RUN" {
            for command in run.arguments.components(separatedBy: "&&") where command.contains("apt-get install") {
                let words = command.split(separator: " ").map(String.init)
                guard let install = words.firstIndex(of: "install") else { continue }
                packages.formUnion(words[(install + 1)...].filter { !$0.hasPrefix("-") })
            }
        }
        return packages
    }

    /// Every library the built binary links: the Swift runtime the runtime stage copies from the builder, the
    /// base system of a slim Debian, or a package the runtime stage installs.
    @Test func theRuntimeStageHasEveryLibraryTheBinaryLinks() throws {
        let readelf = Process()
        readelf.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        readelf.arguments = ["readelf", "-d", LLMPerfProcess.binary]
        let pipe = Pipe()
        readelf.standardOutput = pipe
        try readelf.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        readelf.waitUntilExit()
        #expect(readelf.terminationStatus == 0)
        func bracketed(_ line: Substring) -> String? {
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        let lines = output.split(separator: "\n")
        let needed = lines.filter { $0.contains("(NEEDED)") }.compactMap(bracketed)
        let swiftDirectory = try #require(
            lines.first { $0.contains("(RUNPATH)") || $0.contains("(RPATH)") }.flatMap(bracketed)?
                .split(separator: ":").first { $0.hasSuffix("/lib/swift/linux") },
            "the binary's RUNPATH names the Swift runtime")
        #expect(needed.count > 5)
        let runtime = try #require(try Self.dockerfileStages().last)
        #expect(
            runtime.contains {
                $0.keyword == "COPY" && $0.arguments.contains("/usr/lib/swift/linux/*.so /usr/lib/swift/linux/")
            },
            "the runtime stage copies the Swift runtime where the toolchain's RUNPATH points (/usr in swift images)")
        let installed = Self.installedPackages(runtime)
        // In debian:bookworm-slim already (libc6, libstdc++6, libgcc-s1).
        let base: Set = [
            "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2",
            "ld-linux-aarch64.so.1", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
        ]
        let packages = ["libcurl.so.4": "libcurl4", "libsqlite3.so.0": "libsqlite3-0"]
        for library in needed {
            if FileManager.default.fileExists(atPath: "\(swiftDirectory)/\(library)") { continue }
            if base.contains(library) { continue }
            let package = try #require(packages[library], "\(library): which runtime package provides it?")
            #expect(installed.contains(package), "\(library) needs \(package) in the runtime stage")
        }
    }

    @Test func theKubernetesProbesUseHealthAndReady() throws {
        let text = try String(
            contentsOf: Self.deploy.appendingPathComponent("kubernetes/llmperf-serve.yaml"), encoding: .utf8)
        #expect(text.contains("kind: Deployment") && text.contains("kind: Service"))
        func probe(_ name: String) -> String? {
            guard let start = text.range(of: "\(name):") else { return nil }
            return String(text[start.upperBound...].split(separator: "\n").prefix(2).joined(separator: "\n"))
        }
        #expect(probe("livenessProbe")?.contains("path: /health") == true)
        #expect(probe("readinessProbe")?.contains("path: /ready") == true)
        #expect(probe("startupProbe")?.contains("path: /health") == true)
        #expect(text.contains("resources:") && text.contains("containerPort: 8000"))
    }

    /// The metric names in the dashboard's PromQL (panels' `expr`, the variables' `label_values`).
    static func dashboardMetricNames() throws -> (names: Set<String>, expressions: [String]) {
        let data = try Data(contentsOf: deploy.appendingPathComponent("grafana/llmperf.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let inputs = dashboard["__inputs"] as? [[String: Any]] ?? []
        #expect(
            inputs.contains { $0["name"] as? String == "DS_PROMETHEUS" && $0["pluginId"] as? String == "prometheus" })
        var expressions: [String] = []
        for panel in dashboard["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                if let expr = target["expr"] as? String { expressions.append(expr) }
                let datasource = target["datasource"] as? [String: Any]
                #expect(datasource?["uid"] as? String == "${DS_PROMETHEUS}", "\(panel["title"] ?? "")")
            }
        }
        let templating = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in templating {
            if let query = (variable["query"] as? [String: Any])?["query"] as? String { expressions.append(query) }
        }
        var names: Set<String> = []
        let selector = try Regex(#"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{"#)
        let labelValues = try Regex(#"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)"#)
        let anyName = try Regex(#"llmperf_[a-zA-Z0-9_:]+"#)
        for expression in expressions {
            var found: Set<String> = []
            for match in expression.matches(of: selector) { found.insert(String(match.output[1].substring ?? "")) }
            for match in expression.matches(of: labelValues) { found.insert(String(match.output[1].substring ?? "")) }
            #expect(!found.isEmpty, "no metric found in \(expression)")
            // A bare name (no selector) would slip past the selector pattern.
            for match in expression.matches(of: anyName) {
                #expect(found.contains(String(match.output[0].substring ?? "")), "\(expression)")
            }
            names.formUnion(found)
        }
        return (names, expressions)
    }

    @Test func everyMetricTheDashboardQueriesIsExposed() throws {
        let (names, expressions) = try Self.dashboardMetricNames()
        #expect(expressions.count >= 15)
        #expect(
            names.contains { $0.hasPrefix("llmperf_client_") } && names.contains { !$0.hasPrefix("llmperf_client_") })
        // The bundled server, and a run against it whose live metrics are scraped while it goes.
        let server = try SyntheticServer.start()
        defer { server.stop() }
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: dashboard
            target: { url: "\(server.baseURL)/v1", model: synthetic }
            workload: { prompts: ["hi"], max_tokens: 16 }
            load: { concurrency: 2, requests: 150, warmup: 1 }
            """)
        let serving = try MetricsListenTests.Serving.start(["run", path, "--db", ws.database])
        let client = serving.poll(until: {
            $0.value("llmperf_client_run_active") == 1 && ($0.value("llmperf_client_requests_total") ?? 0) > 0
        })
        let result = try serving.process.wait(timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let clientScrape = try #require(client, "no scrape while the run was going")
        let serverScrape = try #require(ExpositionText.scrape(server.baseURL + "/metrics"))
        let exposed = clientScrape.names.union(serverScrape.names)
        let missing = names.subtracting(exposed)
        #expect(missing.isEmpty, "the dashboard queries \(missing.sorted()), which neither side exposes")
    }
}
