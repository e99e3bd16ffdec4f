import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

@Suite struct EmptyRunTests {
    /// A run with no requests at all (e.g. it failed to start) renders everywhere.
    @Test func everyFormatHandlesARunWithoutRequests() throws {
        let empty = ReportRun(info: ReportFixtures.info(id: "r0", name: "empty", openLoop: false), traces: [])
        let warmupOnly = ReportRun(
            info: ReportFixtures.info(id: "r1", name: "warm", openLoop: false),
            traces: [RequestTrace(index: 0, isWarmup: true, startedAtNanos: 1, endedAtNanos: 2)])
        let input = ReportInput(runs: [empty, warmupOnly])
        let html = HTMLReport.render(input)
        #expect(html.contains("No measured requests."))
        #expect(html.contains("data-chart=\"cdf-ttft\""))
        #expect(MarkdownReport.render(input).contains("_No successful requests: no latency statistics._"))
        #expect(CSVReport.summary(input.runs) == CSVReport.summaryColumns.joined(separator: ",") + "\r\n")
        #expect(CSVReport.requests(input.runs).components(separatedBy: "\r\n").count == 3)
        #expect(try JSONSerialization.jsonObject(with: try JSONReport.encode(input)) is [String: Any])
    }
}
