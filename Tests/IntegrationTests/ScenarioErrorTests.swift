import Foundation
import LLMPerfStore
import Testing

/// Invalid input through the executable: exit 2, a positioned message, nothing sent or stored.
@Suite struct ScenarioErrorTests {
    @Test func unknownKeyIsPositionedWithSuggestionAndNothingIsStored() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "bad.yml",
            """
            version: 1
            name: bad
            target: { url: "http://127.0.0.1:9/v1", model: m }
            workload: { prompts: ["hi"] }
            load:
              concurency: 2
              requests: 3
            """)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database])
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad.yml:6:3: load.concurency: unknown key; did you mean 'concurrency'?"))
        if FileManager.default.fileExists(atPath: ws.database) {
            #expect(try RunStore(path: ws.database).listRuns().isEmpty)
        }
    }

    @Test func missingEnvironmentVariableIsNamed() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "env.yml",
            """
            version: 1
            name: env
            target:
              url: "http://127.0.0.1:9/v1"
              model: m
              headers: { Authorization: "Bearer ${LLMPERF_TEST_SURELY_UNSET}" }
            workload: { prompts: ["hi"] }
            load: { concurrency: 1, requests: 1 }
            """)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database])
        #expect(result.status == 2)
        #expect(result.stderr.contains("LLMPERF_TEST_SURELY_UNSET"))
    }

    @Test func badFlagsAndMissingFileAreInvalidInput() throws {
        let flags = try LLMPerfProcess.run(["run", "--requests", "0", "x.yml"])
        #expect(flags.status == 2)
        let missing = try LLMPerfProcess.run(["run", "/nonexistent/scenario.yml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/scenario.yml"))
    }
}
