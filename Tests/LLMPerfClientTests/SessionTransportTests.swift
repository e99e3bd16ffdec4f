import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfClient

/// Sessions over real HTTP: a scripted server answers each turn with its request id, so the test
/// knows every answer the model gave and can check what each later turn carried.
@Suite struct SessionTransportTests {
    /// Answers "answer <x-request-id>" in two content events, with usage.
    static func answering(_ request: ScriptedRequest) -> [ScriptStep] {
        let id = request.headers["x-request-id"] ?? "?"
        return [
            .head(status: 200), .send(Scripts.roleChunk), .send(Scripts.chatChunk("answer ")),
            .send(Scripts.chatChunk(id)), .send(Scripts.finishChunk),
            .send(Scripts.usageChunk(prompt: 5, completion: 2)),
            .send("data: [DONE]\n\n"), .finish,
        ]
    }

    private func messages(_ request: ScriptedRequest) throws -> [(role: String, content: String)] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        let list = try #require(object["messages"] as? [[String: Any]])
        return list.map { ($0["role"] as? String ?? "", $0["content"] as? String ?? "") }
    }

    @Test func eachTurnCarriesTheConversationSoFarWithTheModelsOwnAnswersAfterItsThinkTime() async throws {
        let server = try ScriptedServer(script: Self.answering)
        defer { server.stop() }
        let prompts = ["p0", "p1", "p2", "p3"].map { Prompt(user: $0) }
        var workload = WorkloadSpec(prompts: prompts, maxTokens: 8)
        let think: UInt64 = 30_000_000
        workload.sessions = SessionSpec(turns: .range(3...3), thinkTimeMeanNanos: think)
        let config = TestTransport.config(server.url)
        let driver = LoadDriver(
            config: config, workload: workload, model: "m",
            load: LoadSpec(shape: .closed(concurrency: 2), stop: .requests(6)), requestIDPrefix: "s")
        let traces = await driver.run()
        #expect(traces.count == 6)
        #expect(traces.allSatisfy { $0.succeeded })
        // Two sessions at once: never more than two requests in progress.
        #expect(server.maxConcurrentRequests <= 2)
        let received = server.receivedRequests
        let arrivals = server.arrivalNanos
        var byID: [String: (request: ScriptedRequest, arrival: UInt64)] = [:]
        for (request, arrival) in zip(received, arrivals) {
            byID[request.headers["x-request-id"] ?? ""] = (request, arrival)
        }
        let plan = try #require(workload.sessionPlan)
        for trace in traces {
            let turn = try #require(trace.session)
            let sent = try #require(byID["s-\(trace.index)"])
            let earlier = traces.filter { $0.session?.session == turn.session && $0.session!.turn < turn.turn }
                .sorted { $0.session!.turn < $1.session!.turn }
            #expect(earlier.count == turn.turn)
            // 1, 3, 5 messages: every earlier question and the answer the server actually gave it.
            var expected: [String] = []
            for e in earlier {
                expected.append(
                    "user=" + plan.prompt(session: turn.session, turn: e.session!.turn, prompts: prompts).user)
                expected.append("assistant=answer s-\(e.index)")
            }
            expected.append("user=" + plan.prompt(session: turn.session, turn: turn.turn, prompts: prompts).user)
            #expect(try messages(sent.request).map { "\($0.role)=\($0.content)" } == expected)
            // The history's tokens: each earlier question (1 word) and its answer (2 tokens, by usage).
            #expect(trace.historyTokens == 3 * turn.turn)
            // The full answer was kept for the next turn; what is stored is the answer too.
            #expect(trace.outputText == "answer s-\(trace.index)")
            // The think time passed between the end of the previous turn (as the client saw it) and
            // the server reading this one.
            if let previous = earlier.last {
                #expect(sent.arrival >= config.originNanos + previous.endedAtNanos + think)
            }
        }
        // Sessions 0 and 1 start at once; a third starts if one of them ends while the other is still
        // short of the sixth turn (which depends on timing), never a fourth.
        let sessions = Set(traces.compactMap { $0.session?.session })
        #expect(sessions.isSuperset(of: [0, 1]) && sessions.isSubset(of: [0, 1, 2]), "\(sessions)")
    }

    @Test func cacheBustPutsANonceBeforeEachPromptPerRunOrPerRequest() async throws {
        func firstTexts(_ bust: CacheBust, runKey: UInt64) async throws -> [String] {
            let server = try ScriptedServer(script: Self.answering)
            defer { server.stop() }
            var workload = WorkloadSpec(prompts: [Prompt(user: "a"), Prompt(system: "S", user: "b")], maxTokens: 8)
            workload.cacheBust = bust
            let load = LoadSpec(shape: .closed(concurrency: 1), stop: .requests(4))
            let transport = CurlTransport(
                config: TestTransport.config(server.url), workload: workload, model: "m", load: load,
                cacheBustKey: runKey)
            _ = await LoadDriver(transport: transport, load: load).run()
            return try server.receivedRequests.map { try messages($0)[0].content }
        }
        #expect(try await firstTexts(.none, runKey: 1) == ["a", "S", "a", "S"])
        let perRun = try await firstTexts(.perRun, runKey: 1)
        let nonceA = try #require(CacheBust.perRun.nonce(runKey: 1, index: 0, prompt: Prompt(user: "a")))
        let nonceS = try #require(CacheBust.perRun.nonce(runKey: 1, index: 0, prompt: Prompt(system: "S", user: "b")))
        #expect(nonceA != nonceS)
        #expect(perRun == [nonceA + "a", nonceS + "S", nonceA + "a", nonceS + "S"])
        // Another run, another nonce.
        #expect(try await firstTexts(.perRun, runKey: 2)[0] != perRun[0])
        let perRequest = try await firstTexts(.perRequest, runKey: 1)
        #expect(perRequest.map { $0.hasPrefix("[nonce ") } == [true, true, true, true])
        #expect(Set(perRequest.map { $0.prefix(25) }).count == 4)
        #expect(perRequest[1].hasSuffix("]\nS"))
    }

    /// With the run's tokenizer and no usage, the answer's tokens are the tokenizer's count of its
    /// text, spread over the content events; with usage, usage decides. Here a stand-in tokenizer
    /// counts two tokens a word. It never runs on the loop thread, which stamps every stream's chunks.
    @Test func withoutUsageTheTokenizerCountsTheAnswer() async throws {
        let threads = LoopThreadCalls()
        func run(usage: Bool) async throws -> RequestTrace {
            let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 3, usage: usage) }
            defer { server.stop() }
            var workload = WorkloadSpec(prompts: [Prompt(user: "a")], maxTokens: 8)
            workload.tokenCounter = TokenCounter(name: "two a word") {
                threads.record()
                return 2 * $0.split(separator: " ").count
            }
            let load = LoadSpec(shape: .closed(concurrency: 1), stop: .requests(1))
            let transport = CurlTransport(
                config: TestTransport.config(server.url), workload: workload, model: "m", load: load)
            return try #require(await LoadDriver(transport: transport, load: load).run().first)
        }
        let counted = try await run(usage: false)
        // "t0 t1 t2 ": three words, six tokens, two in each of the three events.
        #expect(counted.outputText == "t0 t1 t2 ")
        #expect(counted.tokenizerOutputTokens == 6 && counted.outputTokenSource == .tokenizer)
        #expect(counted.outputTokens == 6 && counted.chunkTokens == [2, 2, 2])
        let reported = try await run(usage: true)
        #expect(reported.tokenizerOutputTokens == nil && reported.outputTokenSource == .usage)
        #expect(reported.outputTokens == 3 && reported.chunkTokens == [1, 1, 1])
        #expect(threads.onLoop == [false], "counted once, off the loop thread: \(threads.onLoop)")
    }
}

/// Whether a closure ever ran on the curl loop's thread.
private final class LoopThreadCalls: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [Bool] = []

    func record() { lock.withLock { calls.append(CurlMultiLoop.isOnLoopThread) } }
    var onLoop: [Bool] { lock.withLock { calls } }
}
