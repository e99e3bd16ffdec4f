import Testing

@testable import LLMPerfCore

@Suite struct CalibrationBiasTests {
    @Test func biasIsClientMinusServer() throws {
        // Server: arrival at 1,000,000; tokens sent at 3,000,000 and 4,000,000 and 6,000,000.
        let text = """
            # request_id\tchunk_index\tmonotonic_ns\tkind
            llmperf-r1-0\t-1\t1000000\tarrival
            llmperf-r1-0\t0\t2000000\trole
            llmperf-r1-0\t1\t3000000\tfirst_token
            llmperf-r1-0\t2\t4000000\ttoken
            llmperf-r1-0\t3\t6000000\ttoken
            llmperf-r1-0\t4\t6000000\tdone

            """
        let server = try ServerTrace(parsing: text)
        #expect(server.requests["llmperf-r1-0"]?.tokenNanos == [3_000_000, 4_000_000, 6_000_000])
        #expect(server.requests["llmperf-r1-0"]?.responseNanos == nil)
        // A non-streamed answer's send time.
        let whole = try ServerTrace(parsing: "llmperf-r1-1\t-1\t10\tarrival\nllmperf-r1-1\t0\t75\tresponse\n")
        #expect(whole.requests["llmperf-r1-1"] == ServerTrace.Request(arrivalNanos: 10, responseNanos: 75))
        // Client origin 500,000: started at absolute 900,000; received at 3.1, 4.3, 6.2 ms absolute.
        let client = RequestTrace(
            index: 0, startedAtNanos: 400_000, chunkAtNanos: [2_600_000, 3_800_000, 5_700_000],
            chunkTokens: [1, 1, 1], endedAtNanos: 5_800_000)
        let bias = CalibrationBias(client: [client], server: server, clientOriginNanos: 500_000) {
            "llmperf-r1-\($0.index)"
        }
        #expect(bias.matchedRequests == 1)
        // client TTFT 2.2 ms vs server 2.0 ms
        #expect(abs(try #require(bias.ttftBias).p50 - 0.2) < 1e-9)
        // gaps 1.2/1.9 vs 1.0/2.0
        let itl = try #require(bias.itlBias)
        #expect(abs(itl.min - -0.1) < 1e-9 && abs(itl.max - 0.2) < 1e-9)
        // delivery 0.1, 0.3, 0.2
        #expect(abs(try #require(bias.deliveryDelay).p50 - 0.2) < 1e-9)
    }

    /// A request on a new connection: its TTFT bias splits exactly into the client's connection
    /// setup, the request's way to the server and the first token's way back; the bias after
    /// the connect leaves the setup out. A reused connection counts no setup.
    @Test func biasSplitsIntoSetupRequestAndFirstToken() throws {
        // Server (absolute ns): arrival 10.0 ms, first token 15.0 ms, next 17.0 ms; the same
        // timeline again 100 ms later for the second request.
        let text = """
            b-0\t-1\t10000000\tarrival
            b-0\t-2\t9700000\taccept
            b-0\t1\t15000000\tfirst_token
            b-0\t2\t17000000\ttoken
            b-1\t-1\t110000000\tarrival
            b-1\t1\t115000000\tfirst_token
            b-1\t2\t117000000\ttoken

            """
        let server = try ServerTrace(parsing: text)
        let origin: UInt64 = 1_000_000
        // New connection: started at 8.0 ms absolute, wrote the request 1.5 ms later (9.5 ms),
        // received the tokens at 15.2 and 17.3 ms.
        let cold = RequestTrace(
            index: 0, startedAtNanos: 7_000_000, connectNanos: 1_400_000, sentNanos: 1_500_000,
            chunkAtNanos: [14_200_000, 16_300_000], chunkTokens: [1, 1], endedAtNanos: 16_400_000,
            connection: ConnectionInfo(reused: false))
        // Reused connection: started (and wrote) at 109.9 ms; tokens at 115.1 and 117.1 ms.
        let warm = RequestTrace(
            index: 1, startedAtNanos: 108_900_000, sentNanos: 0, chunkAtNanos: [114_100_000, 116_100_000],
            chunkTokens: [1, 1], endedAtNanos: 116_200_000, connection: ConnectionInfo(reused: true))
        let warmup = RequestTrace(
            index: 2, isWarmup: true, startedAtNanos: 0, chunkAtNanos: [1], chunkTokens: [1], endedAtNanos: 1)
        let bias = CalibrationBias(client: [cold, warm, warmup], server: server, clientOriginNanos: origin) {
            "b-\($0.index)"
        }
        #expect(bias.matchedRequests == 2 && bias.newConnections == 1)
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }
        // cold: client TTFT 15.2 − 8.0 = 7.2, server 5.0 → 2.2 = setup 1.5 + request 0.5 + first 0.2
        // warm: client TTFT 115.1 − 109.9 = 5.2, server 5.0 → 0.2 = request 0.1 + first 0.1
        let ttft = try #require(bias.ttftBias)
        #expect(close(ttft.max, 2.2) && close(ttft.min, 0.2))
        let afterConnect = try #require(bias.ttftBiasAfterConnect)
        #expect(close(afterConnect.max, 0.7) && close(afterConnect.min, 0.2))
        let setup = try #require(bias.connectionSetup)
        #expect(setup.count == 1 && close(setup.p50, 1.5))
        let request = try #require(bias.requestDelay)
        #expect(close(request.max, 0.5) && close(request.min, 0.1))
        let first = try #require(bias.firstTokenDelay)
        #expect(close(first.max, 0.2) && close(first.min, 0.1))
        // cold: connected at 8.0 + 1.4 = 9.4 ms, accepted at 9.7 ms, read at 10.0 ms; warm has no accept
        let accept = try #require(bias.acceptDelay)
        #expect(accept.count == 1 && close(accept.p50, 0.3))
        let afterAccept = try #require(bias.readAfterAccept)
        #expect(afterAccept.count == 1 && close(afterAccept.p50, 0.3))
        #expect(server.requests["b-0"]?.acceptNanos == 9_700_000 && server.requests["b-1"]?.acceptNanos == nil)
        // gaps: cold 2.1 vs 2.0, warm 2.0 vs 2.0
        let itl = try #require(bias.itlBias)
        #expect(close(itl.max, 0.1) && close(itl.min, 0))
    }

    @Test func malformedLineIsNamed() {
        #expect(throws: ServerTrace.ParseError(line: 1, text: "garbage")) { try ServerTrace(parsing: "garbage\n") }
    }
}
