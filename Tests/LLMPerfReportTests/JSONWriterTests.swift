import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// The fast JSON writer against `JSONEncoder` on the same document.
@Suite struct JSONWriterTests {
    @Test(arguments: [true, false])
    func matchesJSONEncoderByteForByte(pretty: Bool) throws {
        var traces = ReportFixtures.candidateTraces
        traces.append(
            RequestTrace(
                index: 99, startedAtNanos: 5, endedAtNanos: 6,
                usage: TokenUsage(promptTokens: nil, completionTokens: 0, cachedTokens: 3),
                outcome: .failed(.decode, detail: "ctl \u{01}\u{08}\u{0C}\t\\ \"q\" / é \u{2028} 😀"),
                outputText: "line\r\nnext",
                serverTimings: ServerTimings(promptNanos: 1_250_000, generationNanos: 2, loadNanos: 0, draftTokens: 3)))
        // Every phase `llmperf serve` reports: the request's fields and the run's breakdown.
        traces.append(BreakdownReportTests.trace(index: 100, later: 0.123_456))
        let candidate = ReportRun(info: ReportFixtures.candidate.info, traces: traces)
        #expect(candidate.breakdown != nil)
        let input = ReportInput(
            runs: [ReportFixtures.baseline, candidate], comparison: try ReportFixtures.comparison(),
            gate: try ReportFixtures.gate())
        let expected = try JSONReferenceDocument(input).encoded(pretty: pretty)
        let actual = try JSONReport.encode(input, pretty: pretty)
        if actual != expected {
            Issue.record(
                Comment(
                    rawValue: GoldenFile.firstDifference(
                        String(decoding: expected, as: UTF8.self), String(decoding: actual, as: UTF8.self))))
        }
    }

    @Test func writesNumbersLikeJSONEncoder() {
        var json = JSONTextWriter(pretty: false)
        json.beginArray()
        for value in [0, 5, -3, 0.1, 1e-05, 1e16, 126.09585849999999, -0.0, .nan, .infinity] as [Double] {
            json.double(value)
        }
        json.uint64(UInt64.max)
        json.int(Int.min)
        json.endArray()
        #expect(
            String(decoding: json.bytes, as: UTF8.self)
                == "[0,5,-3,0.1,1e-05,1e+16,126.09585849999999,0,\"NaN\",\"Infinity\",18446744073709551615,"
                + "-9223372036854775808]")
    }

    @Test func streamsInPieces() throws {
        let input = ReportInput(runs: [ReportFixtures.baseline])
        var pieces: [Data] = []
        try JSONReport.write(input, pretty: false) { pieces.append($0) }
        #expect(pieces.reduce(Data(), +) == (try JSONReport.encode(input, pretty: false)))
    }
}
