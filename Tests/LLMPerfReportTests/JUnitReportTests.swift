import Foundation
import FoundationXML
import LLMPerfCore
import Testing

@testable import LLMPerfReport

@Suite struct JUnitReportTests {
    /// A gate result with every character XML cares about, in the subject's name that the
    /// reason repeats.
    static func hostileGate() throws -> GateEvaluation {
        var gate = GateEvaluation(
            rules: [try GateRule.parse("ttft.p95 < 500ms"), try GateRule.parse("error_rate < 1%")], run: [])
        gate.results[0] = GateEvaluation.Result(
            rule: "ttft.p95 < 500ms", subject: GateSubject(measure: .metric(.ttft), statistic: "p95"),
            kind: .threshold(.less, limit: 500), passed: false, measured: 612.3,
            finding: .nothingToMeasure(side: nil, why: "& \"x\" 'y' <z>\nsecond line\u{07}"))
        gate.results[1] = GateEvaluation.Result(
            rule: "error_rate < 1%", subject: GateSubject(measure: .errorRate), kind: .threshold(.less, limit: 0.01),
            passed: true, measured: 0, finding: .compared)
        gate.passed = false
        return gate
    }

    @Test func parsesAsXMLWithOneTestcasePerRule() throws {
        let xml = JUnitReport.render(try Self.hostileGate(), suite: "gate <&> \"run\"")
        let document = try XMLDocument(xmlString: xml)
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "2")
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        #expect(root.attribute(forName: "name")?.stringValue == "gate <&> \"run\"")
        let cases = try document.nodes(forXPath: "//testcase").compactMap { $0 as? XMLElement }
        #expect(cases.map { $0.attribute(forName: "name")?.stringValue } == ["ttft.p95 < 500ms", "error_rate < 1%"])
        let failure = try #require(cases[0].elements(forName: "failure").first)
        // The control character became U+FFFD; the line break survived the attribute.
        #expect(
            failure.attribute(forName: "message")?.stringValue
                == "p95 TTFT: nothing to measure (& \"x\" 'y' <z>\nsecond line\u{FFFD})")
        #expect(failure.stringValue?.contains("measured: 612.3 ms") == true)
        #expect(cases[1].elements(forName: "failure").isEmpty)
    }
}
