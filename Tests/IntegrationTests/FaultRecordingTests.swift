import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// Every fault of `llmperf serve --engine synthetic --fault NAME` run through the built
/// executable, and the stored rows checked kind by kind against the README's failure table:
/// the outcome, the tokens kept, TTFT present or not, ITL values, and (from the server's trace)
/// whether an abandoned connection was ever reused. Every run must exit 0: failures are data.
@Suite(.serialized) struct FaultRecordingTests {
    /// Content events the synthetic answer has (and `max_tokens`).
    static let tokens = 8
    /// Content events before a mid-stream fault.
    static let after = 3

    struct Outcome {
        var traces: [RequestTrace]
        /// Per request id (`llmperf-<run>-<index>` → index): the fault the server applied and
        /// the client's port.
        var serverFault: [Int: String]
        var clientPort: [Int: Int]
    }

    /// Runs `requests` requests at `concurrency` against a local synthetic backend with the
    /// given serve options; returns the stored traces (by index) and the server's trace.
    static func run(
        _ options: String, requests: Int = 3, concurrency: Int = 1,
        timeouts: String = "{ first_token: 2s, idle: 2s }", itlMs: Int = 2
    ) throws -> Outcome {
        let ws = try Workspace()
        defer { ws.remove() }
        let tracePath = ws.root.appendingPathComponent("server-trace.tsv").path
        let scenario = """
            version: 1
            name: faults
            target:
              backend: local
              engine: synthetic
              connection: reuse
              timeouts: \(timeouts)
              options: { ttft-ms: 5, itl-ms: \(itlMs), tokens: \(tokens), fault-after: \(after), fault-stall: 6s, \
            trace-file: "\(tracePath)", \(options) }
            workload:
              prompts: ["Say something."]
              max_tokens: \(tokens)
            load:
              concurrency: \(concurrency)
              requests: \(requests)
              warmup: 0
            """
        let path = try ws.write("s.yml", scenario)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"], timeout: 240)
        #expect(result.status == 0, "\(options): exit \(result.status)\n\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        #expect(run.status == .completed, "\(options)")
        let traces = try store.traces(runID: run.id).sorted { $0.index < $1.index }
        #expect(traces.count == requests, "\(options)")
        var faults: [Int: String] = [:]
        var ports: [Int: Int] = [:]
        let prefix = "llmperf-\(run.id)-"
        for line in try String(contentsOfFile: tracePath, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4, fields[0].hasPrefix(prefix), let index = Int(fields[0].dropFirst(prefix.count))
            else { continue }
            if fields[3].hasPrefix("fault:") { faults[index] = String(fields[3].dropFirst(6)) }
            if fields[3].hasPrefix("remote_port:") { ports[index] = Int(fields[3].dropFirst(12)) }
        }
        return Outcome(traces: traces, serverFault: faults, clientPort: ports)
    }

    static func ttft(_ t: RequestTrace) -> Double? { Metric.ttft.value(of: t) }

    /// Sequential requests (concurrency 1) that each left their connection mid-body: no two
    /// share a client port, so none was reused.
    static func expectNoReuse(_ o: Outcome, _ fault: String) {
        let ports = o.traces.compactMap { o.clientPort[$0.index] }
        #expect(ports.count == o.traces.count, "\(fault): ports \(o.clientPort)")
        #expect(Set(ports).count == ports.count, "\(fault): a port was reused: \(ports)")
        #expect(o.traces.allSatisfy { !$0.connection.reused }, "\(fault)")
    }

    // MARK: healthy, and the trace tells reuse

    @Test func healthyRunReusesItsConnection() throws {
        let o = try Self.run("fault: none")
        #expect(o.traces.allSatisfy { $0.outcome == .ok && $0.chunkAtNanos.count == Self.tokens })
        #expect(o.traces.allSatisfy { $0.chunkTokens.allSatisfy { $0 == 1 } })
        #expect(o.traces.allSatisfy { o.serverFault[$0.index] == "none" })
        // The same client port for every request: the port check below can see reuse.
        #expect(Set(o.traces.compactMap { o.clientPort[$0.index] }).count == 1, "\(o.clientPort)")
    }

    // MARK: HTTP errors

    @Test func httpErrorsAreTheirStatusWithTheBody() throws {
        let rate = try Self.run("fault: http_429")
        for t in rate.traces {
            #expect(t.outcome.failureKind == .http(status: 429))
            #expect(t.outcome.detail.hasPrefix("Retry-After: 1; "), "\(t.outcome.detail)")
            #expect(t.outcome.detail.contains("rate_limit_exceeded"))
            #expect(t.chunkAtNanos.isEmpty && Self.ttft(t) == nil)
        }
        let server = try Self.run("fault: http_500")
        #expect(server.traces.allSatisfy { $0.outcome.failureKind == .http(status: 500) })
        #expect(server.traces.allSatisfy { $0.outcome.detail.contains("\"error\"") })
        let html = try Self.run("fault: http_503_html")
        for t in html.traces {
            #expect(t.outcome.failureKind == .http(status: 503), "\(t.outcome)")
            #expect(t.outcome.detail.lowercased().contains("<html"))
            #expect(t.outcome.detail.utf8.count <= 1024)
        }
    }

    // MARK: resets and stalls: partial data kept, connection never reused

    @Test func resetBeforeResponseIsStreamCutWithNothing() throws {
        let o = try Self.run("fault: reset_before_response")
        #expect(o.traces.allSatisfy { $0.outcome.failureKind == .streamCut }, "\(o.traces.map(\.outcome))")
        #expect(o.traces.allSatisfy { $0.chunkAtNanos.isEmpty && Self.ttft($0) == nil })
        Self.expectNoReuse(o, "reset_before_response")
    }

    @Test func resetMidStreamIsStreamCutKeepingTokensAndTTFT() throws {
        let o = try Self.run("fault: reset_mid_stream")
        for t in o.traces {
            #expect(t.outcome.failureKind == .streamCut, "\(t.outcome)")
            #expect(t.chunkAtNanos.count == Self.after)
            #expect(Self.ttft(t) != nil)
        }
        Self.expectNoReuse(o, "reset_mid_stream")
    }

    @Test func stallBeforeTheFirstTokenIsFirstTokenTimeout() throws {
        let o = try Self.run("fault: stall_first_token", timeouts: "{ first_token: 1s, idle: 1s }")
        for t in o.traces {
            #expect(t.outcome.failureKind == .timeout(.firstToken), "\(t.outcome)")
            #expect(t.chunkAtNanos.isEmpty && Self.ttft(t) == nil)
        }
        Self.expectNoReuse(o, "stall_first_token")
    }

    @Test func stallMidStreamIsIdleTimeoutKeepingTokensAndTTFT() throws {
        let o = try Self.run("fault: stall_mid_stream", timeouts: "{ first_token: 1s, idle: 1s }")
        for t in o.traces {
            #expect(t.outcome.failureKind == .timeout(.idle), "\(t.outcome)")
            #expect(t.chunkAtNanos.count == Self.after)
            #expect(Self.ttft(t) != nil)
        }
        Self.expectNoReuse(o, "stall_mid_stream")
    }

    // MARK: bad content

    @Test func malformedEventIsDecodeKeepingWhatCameBefore() throws {
        let o = try Self.run("fault: malformed_json")
        for t in o.traces {
            #expect(t.outcome.failureKind == .decode, "\(t.outcome)")
            #expect(t.outcome.detail.hasPrefix("malformed stream event after \(Self.after) content events"))
            #expect(t.chunkAtNanos.count == Self.after)
            #expect(Self.ttft(t) != nil)
        }
        Self.expectNoReuse(o, "malformed_json")
    }

    @Test func invalidUTF8AndAHugeEventAreRecordedWithoutHarm() throws {
        let bad = try Self.run("fault: invalid_utf8")
        for t in bad.traces {
            #expect(t.outcome == .ok, "\(t.outcome)")
            #expect(t.chunkAtNanos.count == Self.tokens)
            #expect(t.outputText.contains("\u{FFFD}"))
        }
        let huge = try Self.run("fault: huge_event")
        for t in huge.traces {
            #expect(t.outcome == .ok, "\(t.outcome)")
            #expect(t.chunkAtNanos.count == Self.tokens)
            #expect(t.outputTokens == Self.tokens)
            #expect(t.outputText.utf8.count <= 4096)
        }
    }

    // MARK: framing

    @Test func streamsThatEndWithoutDoneOrAreMislabelledOrPaddedAreOK() throws {
        // An idle limit of 1 s: a client waiting for [DONE] after the clean end would time out.
        for fault in ["no_done", "wrong_content_type", "empty_choices", "ping_comments", "crlf"] {
            let o = try Self.run("fault: \(fault)", timeouts: "{ first_token: 5s, idle: 1s }")
            for t in o.traces {
                #expect(t.outcome == .ok, "\(fault): \(t.outcome)")
                #expect(t.chunkAtNanos.count == Self.tokens, "\(fault)")
                #expect(t.outputTokens == Self.tokens, "\(fault)")
                #expect(Self.ttft(t) != nil, "\(fault)")
            }
            #expect(o.traces.allSatisfy { o.serverFault[$0.index] == fault }, "\(fault)")
        }
    }

    /// Every body byte 1 ms apart: TTFT is when the first content event is complete, well
    /// after the first byte (the role event alone is over 100 bytes).
    @Test func dripTTFTIsTheFirstCompleteContentEvent() throws {
        let o = try Self.run(
            "fault: drip, fault-drip: 1ms", requests: 2, timeouts: "{ first_token: 60s, idle: 10s }", itlMs: 0)
        for t in o.traces {
            #expect(t.outcome == .ok, "\(t.outcome)")
            #expect(t.chunkAtNanos.count == Self.tokens)
            let ttft = try #require(Self.ttft(t))
            let ttfb = try #require(Metric.ttfb.value(of: t))
            // Lower bound: the role event and the first content event (well over 150 bytes, each
            // written ≥ 1 ms after the one before) lie between the first byte and the end of the
            // first content event.
            #expect(ttft - ttfb >= 150, "ttft \(ttft) ttfb \(ttfb)")
        }
    }

    /// 4 tokens per event, usage reporting the true count: each chunk carries its tokens and
    /// each ITL sample is the gap between events divided by them.
    @Test func multiTokenEventsDivideITLByTheTokensOfEachEvent() throws {
        let o = try Self.run("fault: multi_token_events, fault-tokens-per-event: 4", itlMs: 10)
        for t in o.traces {
            #expect(t.outcome == .ok, "\(t.outcome)")
            #expect(t.chunkAtNanos.count == Self.tokens / 4)
            #expect(t.chunkTokens == Array(repeating: 4, count: Self.tokens / 4))
            #expect(t.outputTokens == Self.tokens)
            let gaps = zip(t.chunkAtNanos.dropFirst(), t.chunkAtNanos).map { Double($0 - $1) / 1e6 }
            let itl = Metric.itl.samples(of: t)
            #expect(itl.count == gaps.count)
            for (sample, gap) in zip(itl, gaps) { #expect(abs(sample - gap / 4) < 1e-9) }
        }
    }

    // MARK: a seeded mix at concurrency 16

    /// The kind each fault is recorded as (README failure table), and how many content chunks
    /// the row keeps (nil: not checked).
    static func expected(_ fault: String) -> (kind: FailureKind?, chunks: Int?)? {
        switch fault {
        case "none", "invalid_utf8", "huge_event", "no_done", "wrong_content_type", "empty_choices",
            "ping_comments", "crlf":
            return (nil, tokens)
        case "multi_token_events": return (nil, tokens / 4)
        case "http_429": return (.http(status: 429), 0)
        case "http_500": return (.http(status: 500), 0)
        case "http_503_html": return (.http(status: 503), 0)
        case "reset_before_response": return (.streamCut, 0)
        case "reset_mid_stream": return (.streamCut, after)
        case "stall_first_token": return (.timeout(.firstToken), 0)
        case "stall_mid_stream": return (.timeout(.idle), after)
        case "malformed_json": return (.decode, after)
        default: return nil
        }
    }

    @Test func seededMixAtConcurrency16IsRecordedKindByKind() throws {
        let mix = [
            "none=3", "http_429=1", "http_500=1", "http_503_html=1", "reset_before_response=1", "reset_mid_stream=1",
            "stall_first_token=1", "stall_mid_stream=1", "malformed_json=1", "invalid_utf8=1", "huge_event=1",
            "no_done=1", "wrong_content_type=1", "empty_choices=1", "ping_comments=1", "crlf=1",
            "multi_token_events=1",
        ].joined(separator: ",")
        let o = try Self.run(
            "fault-mix: \"\(mix)\", fault-seed: 9", requests: 96, concurrency: 16,
            timeouts: "{ first_token: 2s, idle: 2s }")
        var seen: Set<String> = []
        for t in o.traces {
            let fault = try #require(o.serverFault[t.index], "request \(t.index) has no fault in the server trace")
            let expected = try #require(Self.expected(fault), "unexpected fault \(fault)")
            seen.insert(fault)
            #expect(t.outcome.failureKind == expected.kind, "\(fault): \(t.outcome)")
            if let chunks = expected.chunks {
                #expect(t.chunkAtNanos.count == chunks, "\(fault): \(t.chunkAtNanos.count) chunks")
            }
            #expect((Self.ttft(t) != nil) == (expected.chunks ?? 1 > 0), "\(fault)")
            if fault == "multi_token_events" { #expect(t.chunkTokens.allSatisfy { $0 == 4 }) }
        }
        #expect(seen.count >= 10, "faults drawn: \(seen.sorted())")
        // No request went out on a connection another request had abandoned mid-body: a port
        // whose request was cut, timed out or failed to decode serves no later request.
        let abandoning: Set<String> = [
            "reset_before_response", "reset_mid_stream", "stall_first_token", "stall_mid_stream", "malformed_json",
        ]
        var lastOnPort: [Int: RequestTrace] = [:]
        for t in o.traces.sorted(by: { $0.startedAtNanos < $1.startedAtNanos }) {
            guard let port = o.clientPort[t.index] else { continue }
            if let earlier = lastOnPort[port], let fault = o.serverFault[earlier.index] {
                #expect(!abandoning.contains(fault), "request \(t.index) reused the port of \(fault) \(earlier.index)")
            }
            lastOnPort[port] = t
        }
    }
}
