import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `llmperf run` through the built executable against `llmperf serve --engine synthetic
/// --reasoning-tokens N` (and `--tool-calls`): the reasoning split, ttfa and the token counts come
/// out exact, and the gap between the first token and the first answer token is the one the
/// server's own trace shows.
@Suite(.serialized) struct ReasoningRunTests {
    struct Outcome {
        var traces: [RequestTrace]
        var runID: String
        var server: ServerTrace
        var stdout: String
        var stderr: String
    }

    static func run(_ options: String, tokens: Int, requests: Int = 4) throws -> Outcome {
        let ws = try Workspace()
        defer { ws.remove() }
        let tracePath = ws.root.appendingPathComponent("server-trace.tsv").path
        let scenario = """
            version: 1
            name: reasoning
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 20, itl-ms: 5, tokens: \(tokens), trace-file: "\(tracePath)", \(options) }
            workload:
              prompts: ["Think, then answer."]
              max_tokens: \(tokens)
            load:
              concurrency: 1
              requests: \(requests)
              warmup: 0
            slo:
              ttfa.p95: 5s
            """
        let path = try ws.write("s.yml", scenario)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database], timeout: 240)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        let traces = try store.traces(runID: run.id).sorted { $0.index < $1.index }
        #expect(traces.count == requests)
        let server = try ServerTrace(parsing: String(contentsOfFile: tracePath, encoding: .utf8))
        return Outcome(traces: traces, runID: run.id, server: server, stdout: result.stdout, stderr: result.stderr)
    }

    @Test func reasoningTokensComeFirstAndTtfaWaitsForTheAnswer() throws {
        let outcome = try Self.run("reasoning-tokens: 16", tokens: 32)
        var differences: [Double] = []
        for trace in outcome.traces {
            #expect(trace.succeeded)
            #expect(trace.chunkAtNanos.count == 32)
            #expect(trace.chunkReasoning == Array(repeating: true, count: 16) + Array(repeating: false, count: 16))
            #expect(trace.usage?.reasoningTokens == 16 && trace.outputTokens == 32)
            #expect(trace.reasoningTokens == 16 && trace.answerTokens == 16)
            let ttft = try #require(Metric.ttft.value(of: trace))
            let ttfa = try #require(Metric.ttfa.value(of: trace))
            let reasoningTime = try #require(Metric.reasoningTime.value(of: trace))
            #expect(abs(reasoningTime - (ttfa - ttft)) < 1e-6)  // one subtraction of nanoseconds vs two
            // The server sent the first answer token no earlier than its deadline, 16 token intervals
            // after the first token's (a late start on a loaded machine can shorten the gap between
            // the two sends, never the deadline); the client saw the gap the server's trace shows,
            // give or take the delivery of two events (typically: see `typicalDifference`).
            let request = try #require(outcome.server.requests["llmperf-\(outcome.runID)-\(trace.index)"])
            #expect(request.tokenNanos.count == 32)
            let arrival = try #require(request.arrivalNanos)
            #expect(request.tokenNanos[16] >= arrival + (20 + 16 * 5) * 1_000_000)
            let serverGap = Double(request.tokenNanos[16] - request.tokenNanos[0]) / 1e6
            differences.append((ttfa - ttft) - serverGap)
        }
        #expect(typicalDifference(differences) < 2.5, "client gap − server gap, per request: \(differences) ms")
        // The summary shows the reasoning rows, and the SLO on ttfa was checked.
        for metric in ["ttfa", "reasoning_time", "reasoning_tokens", "answer_tokens"] {
            #expect(outcome.stdout.contains(metric), "\(metric) missing from:\n\(outcome.stdout)")
        }
    }

    @Test func withoutReasoningTtfaIsTtftAndNothingIsFlagged() throws {
        let outcome = try Self.run("reasoning-tokens: 0", tokens: 8, requests: 2)
        for trace in outcome.traces {
            #expect(trace.chunkReasoning.isEmpty && trace.reasoningTokens == nil)
            #expect(Metric.ttfa.value(of: trace) == Metric.ttft.value(of: trace))
        }
        #expect(!outcome.stdout.contains("reasoning_time"))
    }

    @Test func aToolCallIsTheAnswer() throws {
        let outcome = try Self.run("reasoning-tokens: 4, tool-calls: true", tokens: 12, requests: 2)
        for trace in outcome.traces {
            #expect(trace.succeeded, "\(trace.outcome)")
            #expect(trace.chunkReasoning.prefix(4).allSatisfy { $0 })
            #expect(trace.chunkReasoning.dropFirst(4).allSatisfy { !$0 })
            // One event per token: the call's opening is its first token, so usage agrees with what arrived.
            #expect(trace.chunkAtNanos.count == 12)
            #expect(trace.reasoningTokens == 4 && trace.outputTokens == 12 && trace.answerTokens == 8)
            #expect(Metric.usageDiff.value(of: trace) == 0)
            // What followed the reasoning is the tool call: its name, then arguments that are JSON.
            let text = trace.outputText
            let start = try #require(text.firstIndex(of: "{"))
            let arguments = try JSONSerialization.jsonObject(with: Data(text[start...].utf8))
            #expect(arguments is [String: Any], "arguments: \(text[start...])")
            #expect(Metric.ttfa.value(of: trace)! > Metric.ttft.value(of: trace)!)
        }
        #expect(!outcome.stderr.contains("usage_diff") && !outcome.stdout.contains("usage_diff"))
    }
}
