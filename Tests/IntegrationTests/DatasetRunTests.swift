import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `workload.dataset` through the built executable against the bundled synthetic server: the
/// server receives the sampled conversations in the seeded order, each asking for its recorded
/// answer's length (the server's trace counts the tokens it sent; its usage counts the prompt it
/// was given), and the summary says what was skipped.
@Suite(.serialized) struct DatasetRunTests {
    /// Conversation k asks "q<k>" and k more words and was answered in 3(k+1) words (4(k+1) tokens by
    /// the word rule), so every request's prompt and length say which conversation it came from.
    static func shareGPT(count: Int) -> String {
        var records: [String] = []
        for k in 0..<count {
            let question = (["q\(k)"] + Array(repeating: "word", count: k)).joined(separator: " ")
            let answer = Array(repeating: "ans", count: 3 * (k + 1)).joined(separator: " ")
            records.append(
                "  {\"id\": \"c\(k)\", \"conversations\": [{\"from\": \"human\", \"value\": \"\(question)\"}, "
                    + "{\"from\": \"gpt\", \"value\": \"\(answer)\"}]}")
        }
        // Skipped and counted: an empty conversation (line 2 + count) and one never answered.
        records.append("  {\"id\": \"empty\", \"conversations\": []}")
        records.append("  {\"id\": \"unanswered\", \"conversations\": [{\"from\": \"human\", \"value\": \"hello?\"}]}")
        return "[\n" + records.joined(separator: ",\n") + "\n]\n"
    }

    struct Outcome {
        var result: LLMPerfProcess.Result
        var expected: [Prompt]
        var traces: [RequestTrace]
        var server: ServerTrace
        var runID: String
    }

    static func run(dataset: String, workload: String = "", requests: Int, conversations: Int = 10) throws -> Outcome {
        let ws = try Workspace()
        defer { ws.remove() }
        _ = try ws.write("data.json", shareGPT(count: conversations))
        let tracePath = ws.root.appendingPathComponent("server-trace").path
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: dataset
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 1, itl-ms: 1, trace-file: "\(tracePath)" }
            workload:
              dataset: \(dataset)
              max_tokens: 500
            \(workload)
            load: { concurrency: 1, requests: \(requests), warmup: 0 }
            """)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"], timeout: 240)
        let expected = try ScenarioLoader.load(path: path, environment: [:]).runs[0].workload
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        let traces = try store.traces(runID: run.id).sorted { $0.index < $1.index }
        let server = try ServerTrace(parsing: try String(contentsOfFile: tracePath, encoding: .utf8))
        let prompts = expected.sessionScripts.isEmpty ? expected.prompts : expected.sessionScripts.flatMap { $0 }
        return Outcome(result: result, expected: prompts, traces: traces, server: server, runID: run.id)
    }

    @Test func theServerGetsTheSampledPromptsInTheSeededOrderWithTheirLengths() throws {
        let outcome = try Self.run(
            dataset: "{path: data.json, format: sharegpt, sample: 6, seed: 11, output_tokens: from_dataset}",
            requests: 6)
        #expect(outcome.result.status == 0, "exit \(outcome.result.status)\n\(outcome.result.stderr)")
        #expect(
            outcome.result.stdout.contains(
                "dataset data.json: 12 conversations, 6 used, 2 skipped (empty conversations: 1, first at line 12; "
                    + "conversations whose first user turn has no recorded answer: 1, first at line 13)"),
            "\(outcome.result.stdout)")
        // The sample is a seeded shuffle, not the file's first six.
        let order = outcome.expected.map { Int($0.user.split(separator: " ")[0].dropFirst())! }
        #expect(order.count == 6 && Set(order).count == 6)
        #expect(order != Array(0..<6))
        #expect(outcome.traces.count == 6)
        var templateOverhead: Set<Int> = []
        for (index, trace) in outcome.traces.enumerated() {
            #expect(trace.succeeded, "\(trace.outcome)")
            let k = order[index]
            let request = try #require(outcome.server.requests["llmperf-\(outcome.runID)-\(trace.index)"])
            // Conversation k's recorded answer: 3(k+1) words, 4(k+1) tokens, sent with ignore_eos.
            #expect(request.tokenNanos.count == 4 * (k + 1), "request \(index): conversation \(k)")
            // The server's prompt count: conversation k's k+1 words plus the chat template's own.
            let promptTokens = try #require(trace.usage?.promptTokens)
            templateOverhead.insert(promptTokens - (k + 1))
        }
        #expect(templateOverhead.count == 1, "\(templateOverhead)")
    }

    @Test func sessionsReplayEveryTurnOfEachConversation() throws {
        // Three conversations of two turns: the second turn of c<k> asks "r<k>" and was answered in 2 words.
        var records: [String] = []
        for k in 0..<3 {
            let first = Array(repeating: "a", count: 3 * (k + 1)).joined(separator: " ")
            records.append(
                "{\"conversations\": [{\"from\": \"human\", \"value\": \"q\(k)\"}, {\"from\": \"gpt\", \"value\": "
                    + "\"\(first)\"}, {\"from\": \"human\", \"value\": \"r\(k)\"}, {\"from\": \"gpt\", \"value\": \"b b\"}]}"
            )
        }
        let ws = try Workspace()
        defer { ws.remove() }
        _ = try ws.write("chats.jsonl", records.joined(separator: "\n") + "\n")
        let tracePath = ws.root.appendingPathComponent("server-trace").path
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: dataset-sessions
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 1, itl-ms: 1, trace-file: "\(tracePath)" }
            workload:
              dataset: {path: chats.jsonl, format: sharegpt, turns: all, output_tokens: from_dataset}
              max_tokens: 500
              sessions: {turns: from_dataset}
            load: { concurrency: 1, requests: 6, warmup: 0 }
            """)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"], timeout: 240)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        let traces = try store.traces(runID: run.id).sorted { $0.index < $1.index }
        let server = try ServerTrace(parsing: try String(contentsOfFile: tracePath, encoding: .utf8))
        // One session at a time: c0's two turns, then c1's, then c2's; each first answer 4(k+1) tokens, each
        // second 3 (two words).
        let lengths = try traces.map { trace in
            try #require(server.requests["llmperf-\(run.id)-\(trace.index)"]).tokenNanos.count
        }
        #expect(lengths == [4, 3, 8, 3, 12, 3])
    }
}
