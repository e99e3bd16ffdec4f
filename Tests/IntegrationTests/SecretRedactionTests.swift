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

        // Every file written: reports, the database with its WAL and shared memory.
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
        #expect(files.contains { $0.hasSuffix("r.html") } && files.contains { $0.hasSuffix("gate.xml") })
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
        // The reports show that the headers were there, redacted.
        let stored = try #require(try RunStore(path: ws.database).run(id: first))
        #expect(stored.scenarioYAML.contains("<redacted>"))
        for (name, text) in outputs {
            for canary in [Self.variableCanary, Self.literalCanary] {
                #expect(!text.contains(canary), "\(name) holds a secret")
            }
        }
    }
}
