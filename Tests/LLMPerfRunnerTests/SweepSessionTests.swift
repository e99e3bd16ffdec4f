import Foundation
import LLMPerfCore
import LLMPerfReport
import Testing

@testable import LLMPerfRunner

/// `llmperf sweep`'s logic: the plan of each point, and which point is the capacity.
@Suite struct SweepSessionTests {
    static func point(_ load: String, met: Bool?, rate: Double = 1) -> SweepPoint {
        SweepPoint(
            load: load, runID: "r-\(load)", requests: 10, failed: 0, requestsPerSecond: rate, outputTokensPerSecond: 0,
            ttftP50: nil, ttftP99: nil, tpotP50: nil, tpotP99: nil, sloMet: met,
            brokenRules: met == false ? ["ttft.p99 <= 1s"] : [], saturated: false)
    }

    @Test func theCapacityIsTheHighestPointMetBeforeTheFirstBreak() {
        let mixed = SweepResult(
            batchID: "b",
            points: [
                Self.point("c1", met: true), Self.point("c2", met: true), Self.point("c4", met: false),
                Self.point("c8", met: true),
            ])
        // c8 met again (noise, or a server that warmed up), but the curve broke at c4 first.
        #expect(mixed.capacity?.load == "c2" && mixed.firstBroken?.load == "c4")
        let allMet = SweepResult(batchID: "b", points: [Self.point("c1", met: true), Self.point("c2", met: true)])
        #expect(allMet.capacity?.load == "c2" && allMet.firstBroken == nil)
        let noneMet = SweepResult(batchID: "b", points: [Self.point("c1", met: false), Self.point("c2", met: true)])
        #expect(noneMet.capacity == nil && noneMet.firstBroken?.load == "c1")
        let noSLO = SweepResult(batchID: "b", points: [Self.point("c1", met: nil)])
        #expect(noSLO.capacity == nil && noSLO.firstBroken == nil)
    }

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
            pipeline: h.pipeline(), labels: [], requests: nil, json: true, style: TerminalStyle(enabled: false))
        let document = try Harness.scenario(ScenarioSessionTests.yaml)
        let error = await #expect(throws: CLIError.self) {
            _ = try await session.run(document, loads: .concurrency([1, 2]))
        }
        #expect(error?.message.contains("has 3 variants") == true, "\(error?.message ?? "")")
    }
}
