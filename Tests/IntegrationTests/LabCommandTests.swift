import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `llmperf lab` through the built executable. The shipped optimizations run on the real
/// model, so that test uses the release build (`$LLMPERF_RELEASE_BIN`, set by `make test`);
/// the others use lab scenarios of their own on the synthetic engine.
@Suite(.serialized) struct LabCommandTests {
    /// The repository root, from this file's real location (`Tests/IntegrationTests/…`).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `binary` with `arguments` in `directory` to completion.
    static func run(
        binary: String, _ arguments: [String], directory: URL, environment: [String: String] = [:],
        timeout: TimeInterval
    ) throws -> LLMPerfProcess.Result {
        try LLMPerfProcess.run(
            arguments, binary: binary, environment: environment, directory: directory, timeout: timeout)
    }

    static func start(
        binary: String, _ arguments: [String], directory: URL, environment: [String: String] = [:]
    ) throws -> LLMPerfProcess.Running {
        try LLMPerfProcess.start(arguments, binary: binary, environment: environment, directory: directory)
    }

    /// A lab scenario on the synthetic engine: `slow` and `fast` variants that differ in TTFT.
    static func syntheticLab(
        name: String, side: String, requests: Int = 6, tokens: Int = 4, itlMs: Int = 1, extra: String = ""
    ) -> String {
        """
        version: 1
        name: \(name)
        target:
          backend: local
          engine: synthetic
          options: { itl-ms: \(itlMs), tokens: \(tokens) }
        workload:
          prompts: ["hi"]
          max_tokens: \(tokens)
        load:
          concurrency: 1
          requests: \(requests)
        lab:
          optimization: \(name) switch
          moves: time to first token
          metric: ttft.p50
          side: \(side)
          expect: 2x
        variants:
          slow:
            target: { options: { ttft-ms: 40 } }
          fast:
            target: { options: { ttft-ms: 4 } }
        \(extra)
        """
    }

    // MARK: the shipped optimizations

    @Test func streamingAndResponseCacheEndToEnd() throws {
        let binary = try LLMPerfProcess.releaseBinary()
        let ws = try Workspace()
        defer { ws.remove() }
        let report = ws.root.appendingPathComponent("lab.html").path
        let result = try Self.run(
            binary: binary,
            [
                "lab", "--only", "streaming,response-cache", "--requests", "10", "--db", ws.database, "--report",
                report,
                "--quiet",
            ], directory: Self.repositoryRoot, timeout: 600)
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")

        // The table: a header, then one row per optimization with both values.
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        for column in ["optimization", "what it moves", "before", "after", "change", "significant", "expected"] {
            #expect(header.contains(column), "\(column) in \(header)")
        }
        let streaming = try #require(lines.first { $0.hasPrefix("streaming ") }, "\(result.stdout)")
        #expect(streaming.contains("time to first visible token p50"))
        #expect(streaming.components(separatedBy: " ms").count - 1 >= 2, "\(streaming)")
        let cache = try #require(lines.first { $0.hasPrefix("response cache ") }, "\(result.stdout)")
        #expect(cache.contains("time to first token p50"))
        #expect(cache.contains("≤ 5 ms"))
        #expect(result.stdout.contains("llmperf compare BEFORE AFTER"))

        // Every run is stored, in one batch, labelled.
        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns()
        #expect(Set(runs.compactMap(\.variant)) == ["whole-answer", "streamed", "cache-off", "cache-on"])
        #expect(Set(runs.map(\.batchID)).count == 1)
        #expect(runs.allSatisfy { $0.status == .completed && $0.labels.contains("lab") })
        for run in runs {
            let traces = try store.traces(runID: run.id)
            let measured = traces.filter { !$0.isWarmup }
            #expect(measured.count == 10, "\(run.variant ?? "")")
            #expect(measured.allSatisfy { $0.succeeded }, "\(run.variant ?? "")")
            if run.name == "streaming" {
                #expect(Set(run.labels) == ["lab", "lab-streaming"])
                // extra_body {ignore_eos: true}: every answer is exactly max_tokens long.
                #expect(traces.allSatisfy { $0.outputTokens == 128 }, "\(traces.map(\.outputTokens))")
            } else {
                #expect(Set(run.labels) == ["lab", "lab-response-cache"])
                #expect(traces.filter(\.isWarmup).count == 4)
            }
        }

        // The report: the table, then each optimization with its comparison and charts.
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("<section id=\"lab\">"))
        for name in ["streaming", "response-cache"] {
            #expect(html.contains("id=\"lab-\(name)\""))
            #expect(html.contains("id=\"lab-\(name)-comparison\""))
        }
        #expect(html.components(separatedBy: "data-chart=\"cdf-ttft\"").count - 1 == 2)
    }

    // MARK: lab scenarios of its own

    @Test func customDirectoryAsJSON() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        _ = try ws.write("first-token.yml", Self.syntheticLab(name: "first-token", side: "server"))
        _ = try ws.write("notes.txt", "not a scenario")
        let result = try Self.run(
            binary: LLMPerfProcess.binary,
            ["lab", "--dir", ws.root.path, "--db", ws.database, "--json", "--label", "ci"], directory: ws.root,
            timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["scenario"] as? String == "first-token")
        #expect(row["optimization"] as? String == "first-token switch")
        #expect(row["moves"] as? String == "time to first token p50")
        #expect(row["metric"] as? String == "ttft.p50")
        #expect(row["before"] as? String == "slow" && row["after"] as? String == "fast")
        #expect((row["before_value"] as? Double).map { $0 > 0 } == true)
        #expect((row["after_value"] as? Double).map { $0 > 0 } == true)
        #expect(row["expectation"] as? String == "2×")
        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns()
        #expect(Set(runs.map(\.id)) == [row["before_run"] as? String, row["after_run"] as? String])
        #expect(runs.allSatisfy { Set($0.labels) == ["lab", "lab-first-token", "ci"] })
        #expect(Set(runs.map(\.batchID)) == [json["batch_id"] as? String])
        #expect((json["failures"] as? [Any])?.isEmpty == true)
    }

    @Test func markdownReport() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        _ = try ws.write("first-token.yml", Self.syntheticLab(name: "first-token", side: "client", requests: 3))
        let report = ws.root.appendingPathComponent("lab.md").path
        let result = try Self.run(
            binary: LLMPerfProcess.binary,
            ["lab", "--dir", ws.root.path, "--db", ws.database, "--report", report, "--quiet"], directory: ws.root,
            timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let markdown = try String(contentsOfFile: report, encoding: .utf8)
        #expect(markdown.hasPrefix("# llmperf lab\n"))
        #expect(markdown.contains("| first-token switch | time to first token p50 | "))
        #expect(markdown.contains("\n## first-token switch (`first-token`)\n"))
        #expect(result.stderr.contains("wrote \(report)"))
    }

    @Test func targetRunsOnlyTheClientSideCasesAgainstTheEndpoint() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        _ = try ws.write("client-case.yml", Self.syntheticLab(name: "client-case", side: "client", requests: 3))
        _ = try ws.write("server-case.yml", Self.syntheticLab(name: "server-case", side: "server", requests: 3))
        let server = try SyntheticServer.start()
        defer { server.stop() }
        let result = try Self.run(
            binary: LLMPerfProcess.binary,
            [
                "lab", "--dir", ws.root.path, "--db", ws.database, "--target", "${LAB_BASE}/v1", "--model",
                "synthetic", "--header", "X-Lab-Key: ${LAB_SECRET}", "--quiet",
            ], directory: ws.root, environment: ["LAB_BASE": server.baseURL, "LAB_SECRET": "s3cret-value"],
            timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("client-case switch"))
        #expect(!result.stdout.contains("server-case switch"))
        #expect(
            result.stdout.contains(
                "Skipped (server-side: they need the bundled backend's switches, not an endpoint): server-case."))
        #expect(result.stderr.contains("skipping server-case"))
        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns()
        #expect(runs.count == 2)
        for run in runs {
            #expect(run.name == "client-case")
            #expect(run.targetURL == server.baseURL + "/v1/chat/completions")
            #expect(run.scenarioYAML.hasPrefix("# llmperf lab --target: sent to ${LAB_BASE}/v1 as model synthetic"))
            #expect(run.scenarioYAML.contains("X-Lab-Key: <redacted>"))
            #expect(!run.scenarioYAML.contains("s3cret-value"))
            #expect(try store.traces(runID: run.id).allSatisfy(\.succeeded))
        }
    }

    @Test func invalidInputExits2() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        _ = try ws.write("first-token.yml", Self.syntheticLab(name: "first-token", side: "client"))
        _ = try ws.write("plain.yml", RunCommandTests.scenario(name: "plain"))
        let unknown = try Self.run(
            binary: LLMPerfProcess.binary, ["lab", "--dir", ws.root.path, "--db", ws.database, "--only", "first-tokn"],
            directory: ws.root, timeout: 60)
        #expect(unknown.status == 2)
        #expect(
            unknown.stderr.contains(
                "--only: no optimization named 'first-tokn'; did you mean 'first-token'? The valid names are: first-token, plain"
            ), "\(unknown.stderr)")
        let noLab = try Self.run(
            binary: LLMPerfProcess.binary, ["lab", "--dir", ws.root.path, "--db", ws.database, "--only", "plain"],
            directory: ws.root, timeout: 60)
        #expect(noLab.status == 2)
        #expect(noLab.stderr.contains("plain.yml: no lab section"), "\(noLab.stderr)")
        let missing = try Self.run(
            binary: LLMPerfProcess.binary, ["lab", "--db", ws.database], directory: ws.root, timeout: 60)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--dir: no such directory: scenarios/optimizations"), "\(missing.stderr)")
        let noModel = try Self.run(
            binary: LLMPerfProcess.binary, ["lab", "--target", "http://127.0.0.1:1/v1"], directory: ws.root,
            timeout: 60)
        #expect(noModel.status == 2)
        #expect(noModel.stderr.contains("--target needs --model"), "\(noModel.stderr)")
        let badReport = try Self.run(
            binary: LLMPerfProcess.binary, ["lab", "--report", "lab.pdf"], directory: ws.root, timeout: 60)
        #expect(badReport.status == 2)
        #expect(badReport.stderr.contains("--report: expected a file name ending in .html or .md"))
        #expect(try RunStore(path: ws.database).listRuns().isEmpty)
    }

    @Test func interruptKeepsWhatWasStoredAndExits130() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        _ = try ws.write(
            "long.yml", Self.syntheticLab(name: "long", side: "server", requests: 100_000, tokens: 10, itlMs: 5))
        let running = try Self.start(
            binary: LLMPerfProcess.binary, ["lab", "--dir", ws.root.path, "--db", ws.database, "--quiet"],
            directory: ws.root)
        let deadline = Date().addingTimeInterval(60)
        var stored = 0
        while Date() < deadline && stored < 5 {
            Thread.sleep(forTimeInterval: 0.2)
            if let store = try? RunStore(path: ws.database), let run = try? store.listRuns().first {
                stored = (try? store.requestCount(runID: run.id)) ?? 0
            }
        }
        #expect(stored >= 5)
        running.interrupt()
        let result = try running.wait(timeout: 30)
        #expect(result.status == 130, "\(result.stderr)")
        #expect(result.stderr.contains("lab interrupted; what was measured is stored"))
        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns()
        #expect(runs.count == 1)  // the second variant never started
        #expect(runs.first?.status == .interrupted)
        #expect(try store.traces(runID: try #require(runs.first).id).count >= stored)
    }
}

/// `llmperf serve` (synthetic engine) on a free port, for `--target`.
struct SyntheticServer {
    let process: Process
    let baseURL: String

    static func start() throws -> SyntheticServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LLMPerfProcess.binary)
        process.arguments = ["serve", "--port", "0", "--ttft-ms", "5", "--itl-ms", "1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var buffered = Data()
        let reader = pipe.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffered.append(chunk)
            let text = String(decoding: buffered, as: UTF8.self)
            if let range = text.range(of: "listening on "), let end = text[range.upperBound...].firstIndex(of: "\n") {
                reader.readabilityHandler = { handle in _ = handle.availableData }
                return SyntheticServer(process: process, baseURL: String(text[range.upperBound..<end]))
            }
        }
        process.terminate()
        throw ServerDidNotStart()
    }

    struct ServerDidNotStart: Error {}

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
