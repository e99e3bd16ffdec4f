import Foundation
import LLMPerfCore
import LLMPerfReport
import Testing

@testable import LLMPerfRunner

/// `llmperf run` over fakes: every variant becomes its own run in one batch, and the first one
/// that cannot be measured ends the session as a failure.
@Suite struct ScenarioSessionTests {
    static let yaml = """
        version: 1
        name: variants
        target: { url: "http://127.0.0.1:9/v1", model: m }
        workload: { prompts: ["hi"], max_tokens: 4 }
        load: { concurrency: 1, requests: 2 }
        variants:
          first: {}
          second: { load: { requests: 3 } }
          third: {}
        """

    @Test func eachVariantIsARunAndRequestsOverridesTheirLoad() async throws {
        let h = Harness()
        let session = ScenarioSession(
            pipeline: h.pipeline(), labels: ["l"], requests: 4, json: true, style: TerminalStyle(enabled: false))
        let runs = try await session.run(try Harness.scenario(Self.yaml))
        #expect(runs.map(\.info.variant) == ["first", "second", "third"])
        #expect(runs.map(\.summary.requests) == [4, 4, 4])
        #expect(Set(runs.map(\.info.batchID)) == ["btest"])
    }

    @Test func theFirstVariantThatFailsEndsTheSession() async throws {
        let h = Harness()
        h.repository.sinkFailsAt = 3
        let session = ScenarioSession(
            pipeline: h.pipeline(), labels: [], requests: nil, json: true, style: TerminalStyle(enabled: false))
        let error = await #expect(throws: CLIError.self) { _ = try await session.run(try Harness.scenario(Self.yaml)) }
        #expect(error?.code == .failure)
        #expect(error?.message == "the disk is full")
        // first (2 requests) completed; second failed at its third request; third never ran.
        #expect(h.repository.statuses.map(\.status) == [.running, .completed, .running, .failed])
    }
}
