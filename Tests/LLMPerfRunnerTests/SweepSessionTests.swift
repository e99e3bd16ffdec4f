import Foundation
import LLMPerfCore
import LLMPerfReport
import Testing

@testable import LLMPerfRunner

/// `llmperf sweep`'s plan of each point, and its refusals (the capacity logic: SweepAnalysisTests).
@Suite struct SweepSessionTests {
    @Test func eachPointIsTheScenarioAtOneLoad() throws {
        let document = try Harness.scenario(
            """
            version: 1
            name: open
            target: { url: "http://127.0.0.1:9/v1", model: m }
            workload: { prompts: ["hi"], max_tokens: 4 }
            load: { rate: 3/s, arrival: constant, max_concurrency: 7, requests: 5 }
            """)
        let base = try #require(document.runs.first)
        let rates = SweepSession.plans(base, loads: .rate([0.5, 2, 12.5]), requests: 9)
        #expect(rates.map(\.variant) == ["r0.50", "r2", "r12.5"])
        let timed = SweepSession.plan(base, over: .concurrency, load: 3, length: .duration(.seconds(30)))
        #expect(timed.load.stop == .duration(.seconds(30)) && timed.variant == "c3")
        #expect(
            rates.map(\.load.shape)
                == [0.5, 2, 12.5].map { .open(ratePerSecond: $0, arrival: .constant, maxConcurrency: 7) })
        #expect(rates.allSatisfy { $0.load.stop == .requests(9) && $0.workload == base.workload })
        let closed = SweepSession.plans(base, loads: .concurrency([1, 4]), requests: nil)
        #expect(closed.map(\.variant) == ["c1", "c4"])
        #expect(closed.map(\.load.shape) == [.closed(concurrency: 1), .closed(concurrency: 4)])
        #expect(closed.allSatisfy { $0.load.stop == base.load.stop })
    }

    @Test func aScenarioWithVariantsIsRefused() async throws {
        let h = Harness()
        let session = SweepSession(
            pipeline: h.pipeline(), labels: [], length: .scenario, json: true, style: TerminalStyle(enabled: false))
        let document = try Harness.scenario(ScenarioSessionTests.yaml)
        let error = await #expect(throws: CLIError.self) {
            _ = try await session.run(document, mode: .points(.concurrency([1, 2])))
        }
        #expect(error?.message.contains("has 3 variants") == true, "\(error?.message ?? "")")
    }
}
