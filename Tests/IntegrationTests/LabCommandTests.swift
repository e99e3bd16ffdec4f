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
            target: { options: { ttft-ms: 100 } }
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
                "lab", "--only", "streaming,response-cache", "--requests", "6", "--db", ws.database, "--report",
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
        // Each row: both values in ms, the after lower than the before, significantly so, and the
        // expectation's verdict.
        let streaming = try Self.tableRow(lines.first { $0.hasPrefix("streaming ") }, result.stdout)
        #expect(streaming.moves == "time to first visible token p50")
        #expect(streaming.after < streaming.before, "\(streaming)")
        #expect(streaming.significant.hasPrefix("yes ("), "\(streaming)")
        let cache = try Self.tableRow(lines.first { $0.hasPrefix("response cache ") }, result.stdout)
        #expect(cache.moves == "time to first token p50")
        #expect(cache.after < cache.before, "\(cache)")
        #expect(cache.after <= 5, "\(cache)")
        #expect(cache.significant.hasPrefix("yes ("), "\(cache)")
        #expect(cache.expected == "≤ 5 ms met", "\(cache)")
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
            #expect(measured.count == 6, "\(run.variant ?? "")")
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

    /// One row of the terminal table (cells are separated by two or more spaces), values in ms.
    struct TableRow: CustomStringConvertible {
        var cells: [String]
        var moves: String { cells[1] }
        var before: Double
        var after: Double
        var significant: String { cells[5] }
        var expected: String { cells.count > 6 ? cells[6] : "" }
        var description: String { cells.joined(separator: " | ") }
    }

    static func tableRow(_ line: String?, _ stdout: String) throws -> TableRow {
        let line = try #require(line, "no such row in:\n\(stdout)")
        let cells = line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        try #require(cells.count >= 6, "\(cells)")
        func milliseconds(_ cell: String) throws -> Double {
            let number = try #require(cell.hasSuffix(" ms") ? Double(cell.dropLast(3)) : nil, "\(cell) in \(line)")
            return number
        }
        return TableRow(cells: cells, before: try milliseconds(cells[2]), after: try milliseconds(cells[3]))
    }

    /// Every shipped lab case (each file in scenarios/optimizations/, so a new one is covered too),
    /// end to end at a tiny size: four measured requests per run. Each row has its two runs, both
    /// values and a verdict; nothing failed.
    @Test func everyShippedOptimizationRunsAtTinySize() throws {
        let binary = try LLMPerfProcess.releaseBinary()
        let ws = try Workspace()
        defer { ws.remove() }
        let directory = Self.repositoryRoot.appendingPathComponent("scenarios/optimizations")
        let cases = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yml") }.map { String($0.dropLast(4)) }.sorted()
        #expect(cases.count >= 8, "\(cases)")
        let html = ws.root.appendingPathComponent("lab.html").path
        let result = try Self.run(
            binary: binary, ["lab", "--requests", "4", "--db", ws.database, "--json", "--quiet", "--report", html],
            directory: Self.repositoryRoot, timeout: 900)
        #expect(result.status == 0, "stderr:\n\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect((json["failures"] as? [Any])?.isEmpty == true, "\(json["failures"] ?? "")")
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["scenario"] as? String }) == Set(cases))
        let runIDs = Set((json["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        for row in rows {
            let name = "\(row["scenario"] ?? "?")/\(row["after"] ?? "?")"
            #expect((row["before"] as? String)?.isEmpty == false, "\(name)")
            #expect((row["after"] as? String)?.isEmpty == false, "\(name)")
            #expect(runIDs.contains(row["before_run"] as? String ?? "-"), "\(name): before run")
            #expect(runIDs.contains(row["after_run"] as? String ?? "-"), "\(name): after run")
            #expect((row["before_value"] as? Double).map { $0 > 0 } == true, "\(name): \(row)")
            #expect((row["after_value"] as? Double).map { $0 > 0 } == true, "\(name): \(row)")
            #expect(["better", "worse", "no_change"].contains(row["verdict"] as? String ?? ""), "\(name): \(row)")
        }
        // Every run completed, with its four measured requests stored and answered; the compared runs are
        // the rows', and the batching case also swept both variants over concurrency 1–16 for its curves.
        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns()
        #expect(Set(runs.filter { !$0.labels.contains("sweep") }.map(\.id)) == runIDs)
        let swept = runs.filter { $0.labels.contains("sweep") }.compactMap(\.variant).sorted()
        #expect(
            swept == ["batching-off", "continuous"].flatMap { v in [1, 16, 2, 4, 8].map { "\(v)-c\($0)" } },
            "\(swept)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("data-chart=\"sweep-tpot\"") && page.contains("continuous TPOT p50"))
        for run in runs {
            #expect(run.status == .completed, "\(run.name)/\(run.variant ?? "")")
            let measured = try store.traces(runID: run.id).filter { !$0.isWarmup }
            #expect(measured.count == 4 && measured.allSatisfy(\.succeeded), "\(run.name)/\(run.variant ?? "")")
        }
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
        // 100 ms against 4 ms of server TTFT: the after is far below the before, significantly (six
        // requests each, fully separated), and the 2× expectation is met.
        let before = try #require(row["before_value"] as? Double)
        let after = try #require(row["after_value"] as? Double)
        #expect(before >= 100 && after > 0 && after * 2 < before, "before \(before) ms, after \(after) ms")
        #expect(row["verdict"] as? String == "better")
        #expect(row["significant"] as? Bool == true)
        #expect((row["p_value"] as? Double).map { $0 < 0.05 } == true)
        #expect(row["expectation"] as? String == "2×")
        #expect(row["expectation_met"] as? Bool == true)
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
            // Stored as written: a ${VAR} value never reaches the database.
            #expect(run.targetURL == "${LAB_BASE}/v1/chat/completions")
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

    /// Starts it and waits, at most `timeout`, for its "listening on" line.
    static func start(timeout: TimeInterval = 60) throws -> SyntheticServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LLMPerfProcess.binary)
        process.arguments = ["serve", "--port", "0", "--ttft-ms", "5", "--itl-ms", "1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let listening = ListeningLine()
        // Read in the background (and keep draining after the line), so the wait has a deadline.
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty { handle.readabilityHandler = nil }
            listening.append(chunk)
        }
        guard let baseURL = listening.wait(timeout: timeout) else {
            pipe.fileHandleForReading.readabilityHandler = nil
            // SIGKILL: a child of the test process may have SIGTERM blocked (it inherits the mask).
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ServerDidNotStart(output: listening.text, timeout: timeout)
        }
        return SyntheticServer(process: process, baseURL: baseURL)
    }

    /// The server's output so far and the address from its "listening on" line, once seen.
    final class ListeningLine: @unchecked Sendable {
        private let lock = NSCondition()
        private var buffered = Data()
        private var address: String?
        private var ended = false

        var text: String { lock.withLock { String(decoding: buffered, as: UTF8.self) } }

        func append(_ chunk: Data) {
            lock.withLock {
                if chunk.isEmpty { ended = true }
                if address == nil {
                    buffered.append(chunk)
                    let text = String(decoding: buffered, as: UTF8.self)
                    if let range = text.range(of: "listening on "),
                        let end = text[range.upperBound...].firstIndex(of: "\n")
                    {
                        address = String(text[range.upperBound..<end])
                    }
                }
                lock.broadcast()
            }
        }

        func wait(timeout: TimeInterval) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            return lock.withLock {
                while address == nil && !ended && lock.wait(until: deadline) {}
                return address
            }
        }
    }

    struct ServerDidNotStart: Error, CustomStringConvertible {
        var output: String
        var timeout: TimeInterval
        var description: String { "llmperf serve did not say where it listens within \(timeout) s; output:\n\(output)" }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
