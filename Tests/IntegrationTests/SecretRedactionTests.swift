import Foundation
import LLMPerfStore
import Testing

/// API keys and `${VAR}` values never reach the database, the reports or the logs: a scenario
/// whose headers carry canary secrets runs against the bundled backend, every command that
/// shows or writes a run is run, and every byte they produced is searched for the canaries.
@Suite(.serialized) struct SecretRedactionTests {
    /// From the environment through `${SOME_VAR}`.
    static let variableCanary = "canary-env-7f3e1c9a5b"
    /// Written literally under a header whose name says it is a key.
    static let literalCanary = "canary-literal-2d8b6e4f0a"

    @Test func noSecretReachesAnyOutput() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let scenario = RunCommandTests.scenario(
            name: "secret", ttftMs: 5, itlMs: 2, tokens: 4, requests: 6, warmup: 1,
            extra: "slo: { ttft.p95: 30s, error_rate: 0% }"
        )
        .replacingOccurrences(
            of: "  connection: reuse\n",
            with: """
                  connection: reuse
                  headers:
                    Authorization: "Bearer ${SOME_VAR}"
                    x-trace-token: "prefix-${SOME_VAR}-suffix"
                    x-api-key: "\(Self.literalCanary)"

                """)
        #expect(scenario.contains("${SOME_VAR}"))
        let path = try ws.write("s.yml", scenario)
        let environment = ["SOME_VAR": Self.variableCanary]
        let out = ws.root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var outputs: [(String, String)] = []
        func llmperf(_ arguments: [String], expect status: Int32 = 0) throws {
            let result = try LLMPerfProcess.run(arguments + ["--db", ws.database], environment: environment)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            outputs.append(("\(arguments) stdout", result.stdout))
            outputs.append(("\(arguments) stderr", result.stderr))
        }

        try llmperf(["run", path, "--quiet", "--label", "secret-check"])
        try llmperf(["run", path, "--quiet", "--json", "--gate", "--junit", out.appendingPathComponent("run.xml").path])
        let runs = try RunStore(path: ws.database).listRuns()
        #expect(runs.count == 2)
        let (first, second) = (runs[1].id, runs[0].id)
        // The secrets did go out: the scenario asked for them, and the run succeeded.
        #expect(try RunStore(path: ws.database).traces(runID: first).allSatisfy(\.succeeded))

        try llmperf(["runs", "list"])
        try llmperf(["runs", "show", first])
        try llmperf(["runs", "show", first, "--json"])
        for format in ["csv", "json", "md", "html"] {
            try llmperf([
                "report", first, second, "--format", format, "-o", out.appendingPathComponent("r.\(format)").path,
            ])
            try llmperf(["report", first, "--format", format])
        }
        try llmperf(["report", first, "--format", "csv", "--summary"])
        for format in ["text", "md", "json"] {
            try llmperf(["compare", first, second, "--format", format])
        }
        try llmperf([
            "gate", first, "--junit", out.appendingPathComponent("gate.xml").path, "--markdown",
            out.appendingPathComponent("gate.md").path,
        ])

        for name in ["r.csv", "r.json", "r.md", "r.html", "gate.xml", "gate.md", "run.xml"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
        }
        try Self.expectNoCanary(in: ws, except: path)
        // The reports show that the headers were there, redacted.
        let stored = try #require(try RunStore(path: ws.database).run(id: first))
        #expect(stored.scenarioYAML.contains("<redacted>"))
        for (name, text) in outputs {
            for canary in [Self.variableCanary, Self.literalCanary] {
                #expect(!text.contains(canary), "\(name) holds a secret")
            }
        }
    }

    /// A password in the URL from `${SOME_VAR}`: the stored target keeps the template.
    @Test func aVariableInTheURLIsStoredAsWritten() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let (address, server) = try LLMPerfProcess.startServer([
            "--engine", "synthetic", "--ttft-ms", "5", "--itl-ms", "2", "--tokens", "4",
        ])
        defer { server.stop() }
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: url-secret
            target: { url: "http://user:${SOME_VAR}@\(address)/v1", model: synthetic }
            workload: { prompts: ["hi"], max_tokens: 4 }
            load: { concurrency: 1, requests: 3 }
            """)
        let environment = ["SOME_VAR": Self.variableCanary]
        var outputs: [(String, String)] = []
        for arguments in [
            ["run", path, "--quiet"], ["runs", "list"], ["report", "url-secret@latest", "--format", "json"],
        ] {
            let result = try LLMPerfProcess.run(arguments + ["--db", ws.database], environment: environment)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            outputs += [("\(arguments) stdout", result.stdout), ("\(arguments) stderr", result.stderr)]
        }
        let run = try #require(try RunStore(path: ws.database).listRuns().first)
        #expect(run.targetURL == "http://user:${SOME_VAR}@\(address)/v1/chat/completions")
        #expect(try RunStore(path: ws.database).traces(runID: run.id).allSatisfy(\.succeeded))
        try Self.expectNoCanary(in: ws, except: path)
        for (name, text) in outputs {
            #expect(!text.contains(Self.variableCanary), "\(name) holds a secret")
        }
    }

    /// No file under the workspace (but the scenario, the user's own input) holds a canary:
    /// reports, the database with its WAL and shared memory.
    static func expectNoCanary(in ws: Workspace, except scenario: String) throws {
        let path = scenario
        var files: [String] = []
        let walker = FileManager.default.enumerator(atPath: ws.root.path)
        while let relative = walker?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = ws.root.appendingPathComponent(relative).path
            // The scenario is the user's own input (it holds the literal key as written).
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                full != path
            {
                files.append(full)
            }
        }
        #expect(files.contains(ws.database))
        let canaries = [Self.variableCanary, Self.literalCanary].map { Data($0.utf8) }
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.count > 0 || !file.hasSuffix(".sqlite"), "\(file) is empty")
            for canary in canaries {
                #expect(
                    bytes.range(of: canary) == nil, "\(file) holds a secret: \(String(decoding: canary, as: UTF8.self))"
                )
            }
        }
    }
}
