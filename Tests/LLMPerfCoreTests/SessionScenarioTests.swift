import Foundation
import Testing

@testable import LLMPerfCore

/// `workload.sessions` and `workload.cache_bust` as the scenario loader reads them: exact values,
/// exact errors, and what decides whether a run's prefix-cache hits were meant.
@Suite struct SessionScenarioTests {
    func workload(_ body: String) throws -> WorkloadSpec {
        try ScenarioLoader.load(yaml: ScenarioErrorTests.document(workload: body), path: "scenarios/x.yml").runs[0]
            .workload
    }

    func message(_ body: String) -> String? { ScenarioErrorTests.message(ScenarioErrorTests.document(workload: body)) }

    @Test func sessionsLoadWithEveryForm() throws {
        let full = try workload(
            "  prompts: [a, b]\n  sessions:\n    turns: 3..8\n    think_time: { mean: 2s, stddev: 500ms }\n"
                + "    history: { window: 4 }\n  cache_bust: per_run")
        #expect(
            full.sessions
                == SessionSpec(
                    turns: .range(3...8), thinkTimeMeanNanos: 2_000_000_000, thinkTimeStddevNanos: 500_000_000,
                    history: .window(4)))
        #expect(full.cacheBust == .perRun)
        let short = try workload("  prompts: [a]\n  sessions: { turns: 4, think_time: 250ms, history: full }")
        #expect(short.sessions == SessionSpec(turns: .range(4...4), thinkTimeMeanNanos: 250_000_000, history: .full))
        #expect(short.cacheBust == CacheBust.none)
    }

    @Test func badSessionsAndCacheBustAreNamedWithTheirPlace() {
        #expect(
            message("  prompts: [a]\n  sessions: { turns: 8..3 }")?.contains(
                "workload.sessions.turns: expected a number of turns (4), a range (3..8) or from_dataset, from 1 to 1000 turns"
            )
                == true)
        #expect(
            message("  prompts: [a]\n  sessions: { turns: from_dataset }")?.contains("set workload.dataset") == true)
        #expect(message("  prompts: [a]\n  sessions: { history: { window: 0 } }")?.contains("window") == true)
        #expect(message("  prompts: [a]\n  sessions: { turn: 3 }")?.contains("turns") == true)
        let bust = message("  prompts: [a]\n  cache_bust: sometimes")
        #expect(bust?.contains("workload.cache_bust") == true && bust?.contains("per_run") == true, "\(bust ?? "")")
        #expect(bust?.hasPrefix("scenarios/x.yml:8:15: workload.cache_bust: ") == true, "\(bust ?? "")")
    }

    @Test func prefixSharingByDesign() {
        let distinct = WorkloadSpec(prompts: [Prompt(user: "a"), Prompt(user: "b")])
        #expect(!distinct.sharesPrefixes(requests: 2))
        // More requests than prompts: a prompt goes twice.
        #expect(distinct.sharesPrefixes(requests: 3))
        #expect(WorkloadSpec(prompts: [Prompt(user: "a"), Prompt(user: "a")]).sharesPrefixes(requests: 2))
        #expect(
            WorkloadSpec(prompts: [Prompt(system: "S", user: "a"), Prompt(system: "S", user: "b")]).sharesPrefixes(
                requests: 2))
        var sessions = distinct
        sessions.sessions = SessionSpec()
        #expect(sessions.sharesPrefixes(requests: 2))
        sessions.cacheBust = .perRequest
        #expect(!sessions.sharesPrefixes(requests: 2))
    }

    @Test func theWarmCacheWarningNeedsMoreThanOnePercentAndNoSharingByDesign() {
        let warm = PromptCacheShare(requests: 2, promptTokens: 1_000, cachedTokens: 11)
        #expect(warm.warning(sharesByDesign: false)?.contains("1.1% of the prompt tokens (11 of 1000)") == true)
        #expect(warm.warning(sharesByDesign: true) == nil)
        #expect(
            PromptCacheShare(requests: 2, promptTokens: 1_000, cachedTokens: 10).warning(sharesByDesign: false) == nil)
    }

    @Test func nonceGoesBeforeThePromptsFirstText() {
        let nonce = "[n]\n"
        #expect(Prompt(system: "S", user: "u").prefixed(with: nonce) == Prompt(system: "[n]\nS", user: "u"))
        #expect(Prompt(user: "u").prefixed(with: nonce) == Prompt(user: "[n]\nu"))
        #expect(
            Prompt(history: [ChatExchange(user: "q", assistant: "a")], user: "u").prefixed(with: nonce)
                == Prompt(history: [ChatExchange(user: "[n]\nq", assistant: "a")], user: "u"))
        // Per run: one nonce for prompts that begin alike, another for another beginning, and other
        // nonces in another run; per request: one each.
        let a = Prompt(system: "S", user: "a")
        let b = Prompt(system: "S", user: "b")
        let c = Prompt(user: "c")
        #expect(
            CacheBust.perRun.nonce(runKey: 5, index: 1, prompt: a)
                == CacheBust.perRun.nonce(runKey: 5, index: 9, prompt: b))
        #expect(
            CacheBust.perRun.nonce(runKey: 5, index: 1, prompt: a)
                != CacheBust.perRun.nonce(runKey: 5, index: 1, prompt: c))
        #expect(
            CacheBust.perRun.nonce(runKey: 5, index: 1, prompt: a)
                != CacheBust.perRun.nonce(runKey: 6, index: 1, prompt: a))
        #expect(
            CacheBust.perRequest.nonce(runKey: 5, index: 1, prompt: a)
                != CacheBust.perRequest.nonce(runKey: 5, index: 2, prompt: a))
        #expect(CacheBust.none.nonce(runKey: 5, index: 1, prompt: a) == nil)
        #expect(CacheBust.runKey("r1") != CacheBust.runKey("r2"))
    }
}
