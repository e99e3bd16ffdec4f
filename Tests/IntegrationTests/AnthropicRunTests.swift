import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `api: anthropic` through the built executable against the bundled server's `/v1/messages`
/// (and `api: openai-responses` against its `/v1/responses`): the same numbers as the OpenAI chat
/// dialect on the same synthetic server, a wrong key recorded as
/// http_401, and an `overloaded_error` event mid-stream recorded as http_529 with the tokens
/// that arrived. Every run exits 0: failures are data.
@Suite(.serialized) struct AnthropicRunTests {
    struct Run {
        var id: String
        var traces: [RequestTrace]
    }

    /// Runs `yaml` (`TRACE-x` replaced by the path of a server trace file per variant, as each
    /// variant starts its own server); the runs by variant and each server's trace.
    static func run(_ yaml: String) throws -> (runs: [String: Run], server: [String: ServerTrace]) {
        let ws = try Workspace()
        defer { ws.remove() }
        let tracePath = ws.root.appendingPathComponent("server-trace").path
        let path = try ws.write("s.yml", yaml.replacingOccurrences(of: "TRACE", with: tracePath))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"], timeout: 240)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let store = try RunStore(path: ws.database)
        var byVariant: [String: Run] = [:]
        for run in try store.listRuns() {
            byVariant[run.variant ?? run.name] = Run(
                id: run.id, traces: try store.traces(runID: run.id).sorted { $0.index < $1.index })
        }
        var server: [String: ServerTrace] = [:]
        for variant in byVariant.keys {
            guard let text = try? String(contentsOfFile: tracePath + "-" + variant, encoding: .utf8) else { continue }
            server[variant] = try ServerTrace(parsing: text)
        }
        return (byVariant, server)
    }

    @Test func theSameServerMeasuresTheSameThroughEveryDialect() throws {
        let (runs, server) = try Self.run(
            """
            version: 1
            name: dialects
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 20, itl-ms: 5, reasoning-tokens: 8 }
            workload:
              prompts: ["Think, then answer."]
              max_tokens: 24
            load: { concurrency: 1, requests: 3, warmup: 0 }
            variants:
              openai: { target: { api: openai-chat, options: { trace-file: "TRACE-openai" } } }
              anthropic: { target: { api: anthropic, options: { trace-file: "TRACE-anthropic" } } }
              responses: { target: { api: openai-responses, options: { trace-file: "TRACE-responses" } } }
            """)
        for variant in ["openai", "anthropic", "responses"] {
            let run = try #require(runs[variant])
            let serverTrace = try #require(server[variant])
            #expect(run.traces.count == 3, "\(variant)")
            var differences: [Double] = []
            for trace in run.traces {
                #expect(trace.succeeded, "\(variant): \(trace.outcome)")
                #expect(trace.chunkAtNanos.count == 24, "\(variant)")
                #expect(
                    trace.chunkReasoning == Array(repeating: true, count: 8) + Array(repeating: false, count: 16),
                    "\(variant)")
                #expect(trace.outputTokens == 24 && trace.reasoningTokens == 8, "\(variant)")
                // Anthropic reports no reasoning count: the thinking deltas were counted.
                #expect(trace.usage?.reasoningTokens == (variant == "anthropic" ? nil : 8), "\(variant)")
                #expect(Metric.usageDiff.value(of: trace) == 0, "\(variant)")
                // The gap from the first token to the first answer token is the server's own, give or
                // take the delivery of two events (typically: see `typicalDifference`), through every dialect; the server sent the first
                // answer token no earlier than its deadline, eight token intervals after the first's (a
                // late start on a loaded machine shortens the gap between the sends, never the deadline).
                let gap = try #require(Metric.ttfa.value(of: trace)) - (try #require(Metric.ttft.value(of: trace)))
                let request = try #require(serverTrace.requests["llmperf-\(run.id)-\(trace.index)"])
                let sent = request.tokenNanos
                #expect(sent.count == 24, "\(variant)")
                #expect(sent[8] >= (try #require(request.arrivalNanos)) + (20 + 8 * 5) * 1_000_000)
                let serverGap = Double(sent[8] - sent[0]) / 1e6
                differences.append(gap - serverGap)
            }
            #expect(typicalDifference(differences) < 2.5, "\(variant): client gap − server gap \(differences) ms")
        }
    }

    @Test func aWrongKeyIsHTTP401AndAnOverloadedStreamIsHTTP529KeepingTokens() throws {
        let (runs, _) = try Self.run(
            """
            version: 1
            name: failures
            target:
              backend: local
              engine: synthetic
              api: anthropic
              headers: { x-api-key: "wrong" }
              options: { ttft-ms: 5, itl-ms: 2, api-key: "right-key" }
            workload:
              prompts: ["hi"]
              max_tokens: 8
            load: { concurrency: 1, requests: 2, warmup: 0 }
            variants:
              bad-key: {}
              overloaded:
                target:
                  headers: { x-api-key: "right-key" }
                  options: { fault: overloaded_mid_stream, fault-after: 3 }
            """)
        let badKey = try #require(runs["bad-key"]).traces
        #expect(badKey.count == 2)
        for trace in badKey {
            #expect(trace.outcome.failureKind == .http(status: 401), "\(trace.outcome)")
            #expect(trace.outcome.detail.contains("authentication_error"), "\(trace.outcome.detail)")
            #expect(trace.chunkAtNanos.isEmpty)
        }
        let overloaded = try #require(runs["overloaded"]).traces
        #expect(overloaded.count == 2)
        for trace in overloaded {
            #expect(trace.outcome.failureKind == .http(status: 529), "\(trace.outcome)")
            #expect(trace.chunkAtNanos.count == 3)
            #expect(Metric.ttft.value(of: trace) != nil)
        }
    }

    @Test func theResponsesAPIsFailuresAreTheirStatusesKeepingTokens() throws {
        let (runs, _) = try Self.run(
            """
            version: 1
            name: failures
            target:
              backend: local
              engine: synthetic
              api: openai-responses
              headers: { Authorization: "Bearer wrong" }
              options: { ttft-ms: 5, itl-ms: 2, api-key: "right-key" }
            workload:
              prompts: ["hi"]
              max_tokens: 8
            load: { concurrency: 1, requests: 2, warmup: 0 }
            variants:
              bad-key: {}
              overloaded:
                target:
                  headers: { Authorization: "Bearer right-key" }
                  options: { fault: overloaded_mid_stream, fault-after: 3 }
            """)
        let badKey = try #require(runs["bad-key"]).traces
        #expect(badKey.count == 2)
        for trace in badKey {
            #expect(trace.outcome.failureKind == .http(status: 401), "\(trace.outcome)")
            #expect(trace.outcome.detail.contains("invalid_api_key"), "\(trace.outcome.detail)")
            #expect(trace.chunkAtNanos.isEmpty)
        }
        let overloaded = try #require(runs["overloaded"]).traces
        #expect(overloaded.count == 2)
        for trace in overloaded {
            // the error event's code decides (server_is_overloaded: 503), never decode; the 3 tokens are kept
            #expect(trace.outcome.failureKind == .http(status: 503), "\(trace.outcome)")
            #expect(trace.outcome.detail.contains("server_is_overloaded"), "\(trace.outcome.detail)")
            #expect(trace.chunkAtNanos.count == 3)
            #expect(Metric.ttft.value(of: trace) != nil)
        }
    }
}
