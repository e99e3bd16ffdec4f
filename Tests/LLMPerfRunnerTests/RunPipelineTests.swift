import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfRunner

/// The run pipeline's status transitions, over fakes: a run row is created `running` and ends
/// `completed`, `failed` (the sink gave up, or the backend never started) or `interrupted`.
@Suite struct RunPipelineTests {
    static let urlScenario = """
        version: 1
        name: pipeline
        target: { url: "http://127.0.0.1:9/v1", model: m }
        workload: { prompts: ["hi"], max_tokens: 4 }
        load: { concurrency: 2, requests: 10, warmup: 2 }
        """

    static let localScenario = """
        version: 1
        name: local
        target: { backend: local, engine: synthetic }
        workload: { prompts: ["hi"], max_tokens: 4 }
        load: { concurrency: 1, requests: 3 }
        """

    @Test func aRunThatFinishesIsCompletedWithEveryRequestStored() async throws {
        let h = Harness()
        let plan = try Harness.scenario(Self.urlScenario).runs[0]
        let run = try await h.pipeline().execute(plan, scenarioPath: "s.yml", labels: ["x"])
        #expect(run.info.status == .completed)
        #expect(h.repository.statuses.map(\.status) == [.running, .completed])
        #expect(h.repository.runs[run.info.id]?.status == .completed)
        #expect(h.repository.stored[run.info.id]?.count == 12)
        #expect(run.summary.requests == 10 && run.summary.warmup == 2)
        #expect(run.info.labels == ["x"] && run.info.batchID == "btest")
        // The endpoint URL and the request ids the server sees.
        let sent = h.log.all
        #expect(sent.count == 12)
        #expect(sent.allSatisfy { $0.url == "http://127.0.0.1:9/v1/chat/completions" })
        #expect(sent.allSatisfy { $0.requestIDPrefix == "llmperf-\(run.info.id)" })
        #expect(run.info.targetURL == "http://127.0.0.1:9/v1/chat/completions")
    }

    /// A fixed length asked (ignore_eos) and answers of 4 tokens for max_tokens 8: every measured
    /// request is counted short and the run says so; without ignore_eos nothing is said.
    @Test func answersShortOfAFixedLengthAreCountedAndWarned() async throws {
        let fixed = """
            version: 1
            name: fixed
            target: { url: "http://127.0.0.1:9/v1", model: m }
            workload: { prompts: ["hi"], max_tokens: 8, extra_body: { ignore_eos: true } }
            load: { concurrency: 2, requests: 10, warmup: 2 }
            """
        let h = Harness()
        let run = try await h.pipeline().execute(
            try Harness.scenario(fixed).runs[0], scenarioPath: "s.yml", labels: [])
        #expect(run.tokenAccounting.requests == 10 && run.tokenAccounting.shortOfFixedLength == 10)
        #expect(
            run.tokenAccounting.warnings.first?.hasPrefix("10 of 10 requests stopped short of the 8 tokens") == true)
        let free = try await Harness().pipeline().execute(
            try Harness.scenario(Self.urlScenario).runs[0], scenarioPath: "s.yml", labels: [])
        #expect(free.tokenAccounting.warnings.isEmpty && free.tokenAccounting.requests == 10)
    }

    @Test func aSinkThatGivesUpStopsTheRunAndMarksItFailed() async throws {
        let h = Harness()
        h.repository.sinkFailsAt = 5
        let plan = try Harness.scenario(Self.urlScenario).runs[0]
        var caught: CLIError?
        do {
            _ = try await h.pipeline().execute(plan, scenarioPath: "s.yml", labels: [])
        } catch let error as CLIError {
            caught = error
        }
        #expect(caught?.code == .failure)
        #expect(caught?.message == "the disk is full")
        #expect(h.repository.statuses.map(\.status) == [.running, .failed])
        // Stored before the failure: kept; the run stopped sending (fewer than 12 were sent).
        #expect(h.repository.stored["r1"]?.count == 4)
        #expect(h.log.all.count < 12)
    }

    @Test func anInterruptionStopsSendingAndMarksTheRunInterrupted() async throws {
        let h = Harness()
        let interrupts = h.interrupts
        h.log.onSend = { sent in if sent.order.index == 5 { interrupts.interrupt() } }
        let plan = try Harness.scenario(Self.urlScenario).runs[0]
        let run = try await h.pipeline().execute(plan, scenarioPath: "s.yml", labels: [])
        #expect(run.info.status == .interrupted)
        #expect(h.repository.statuses.map(\.status) == [.running, .interrupted])
        let sent = h.log.all.count
        #expect(sent >= 6 && sent < 12)
        #expect(h.repository.stored[run.info.id]?.count == sent)
    }

    @Test func aBackendThatDoesNotStartIsAFailedRunAndNothingIsSent() async throws {
        let h = Harness()
        h.launcher.fails = true
        let plan = try Harness.scenario(Self.localScenario).runs[0]
        var caught: CLIError?
        do {
            _ = try await h.pipeline().execute(plan, scenarioPath: "s.yml", labels: [])
        } catch let error as CLIError {
            caught = error
        }
        #expect(caught?.code == .failure)
        #expect(caught?.message == "run r1: the local backend exited before listening")
        #expect(h.repository.statuses.map(\.status) == [.failed, .failed])
        #expect(h.log.all.isEmpty)
    }

    @Test func aLocalBackendIsMeasuredAtItsURLAndStoppedAfterwards() async throws {
        let h = Harness()
        let plan = try Harness.scenario(Self.localScenario).runs[0]
        let run = try await h.pipeline().execute(plan, scenarioPath: "s.yml", labels: [])
        #expect(run.info.status == .completed)
        #expect(h.launcher.started.map(\.engine) == ["synthetic"])
        #expect(h.launcher.stopped == 1)
        #expect(h.log.all.allSatisfy { $0.url == "http://127.0.0.1:9001/v1/chat/completions" })
    }

    @Test func http2ThatTheTransportCannotDoIsRefusedBeforeARunExists() async throws {
        let h = Harness()
        var wiring = h.pipeline().wiring
        wiring.http2Missing = { _ in "no HTTP/2 here" }
        let pipeline = RunPipeline(
            wiring: wiring, batchID: "b", gitCommit: nil, progress: .off, interrupts: h.interrupts)
        let yaml = Self.urlScenario.replacingOccurrences(
            of: "target: { url: \"http://127.0.0.1:9/v1\", model: m }",
            with: "target: { url: \"https://127.0.0.1:9/v1\", model: m, http: 2 }")
        let plan = try Harness.scenario(yaml).runs[0]
        await #expect(throws: CLIError.self) {
            _ = try await pipeline.execute(plan, scenarioPath: "s.yml", labels: [])
        }
        #expect(h.repository.statuses.isEmpty)
        #expect(h.log.all.isEmpty)
    }
}
