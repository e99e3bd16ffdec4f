import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// Every text export of a fixed, seeded pair of runs against its golden file.
@Suite struct GoldenReportTests {
    @Test func terminalComparisonPlain() throws {
        let text = ComparisonTableRenderer.render(try ReportFixtures.comparison(), style: TerminalStyle(enabled: false))
        #expect(!text.contains("\u{1B}"))
        try GoldenFile.check(text, named: "comparison-terminal.txt")
    }

    @Test func terminalComparisonColoredMarksVerdicts() throws {
        let text = ComparisonTableRenderer.render(try ReportFixtures.comparison(), style: TerminalStyle(enabled: true))
        #expect(text.contains("\u{1B}[32mbetter"))
        #expect(text.contains("\u{1B}[2m~"))
        #expect(text.contains("\u{1B}[32m  -38.4%\u{1B}[0m"))
    }

    @Test func markdown() throws {
        try GoldenFile.check(MarkdownReport.render(try ReportFixtures.twoRunInput()), named: "report.md")
    }

    @Test func gateMarkdown() throws {
        try GoldenFile.check(GateMarkdown.render(try ReportFixtures.gate(), run: "chat/tuned"), named: "gate.md")
    }

    @Test func junit() throws {
        try GoldenFile.check(
            JUnitReport.render(try ReportFixtures.gate(), suite: "llmperf gate: chat/tuned"), named: "gate.junit.xml")
    }

    @Test func requestsCSV() throws {
        let input = try ReportFixtures.twoRunInput()
        try GoldenFile.check(CSVReport.requests(input.runs), named: "requests.csv")
    }

    @Test func summaryCSV() throws {
        let input = try ReportFixtures.twoRunInput()
        try GoldenFile.check(CSVReport.summary(input.runs), named: "summary.csv")
    }

    /// The runs only: the comparison's encoding belongs to Core and the gate's to `GateDocument` (checked for
    /// presence below), so this golden changes only with the report's own format.
    @Test func json() throws {
        let input = ReportInput(runs: [ReportFixtures.baseline, ReportFixtures.candidate])
        try GoldenFile.check(try JSONReport.render(input), named: "report.json")
    }

    @Test func jsonIsDeterministicAndParses() throws {
        let input = try ReportFixtures.twoRunInput()
        let first = try JSONReport.encode(input, pretty: false)
        #expect(first == (try JSONReport.encode(input, pretty: false)))
        let object = try JSONSerialization.jsonObject(with: first) as? [String: Any]
        let runs = try #require(object?["runs"] as? [[String: Any]])
        #expect(runs.count == 2)
        let requests = try #require(runs[0]["requests"] as? [[String: Any]])
        #expect(requests.count == 24)
        #expect(requests[5]["outputText"] as? String == ReportFixtures.hostileOutput)
        #expect(object?["comparison"] != nil && object?["gate"] != nil)
    }
}
