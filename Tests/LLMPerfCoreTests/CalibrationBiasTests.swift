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

    @Test func malformedLineIsNamed() {
        #expect(throws: ServerTrace.ParseError(line: 1, text: "garbage")) { try ServerTrace(parsing: "garbage\n") }
    }
}
