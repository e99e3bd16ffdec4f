import Foundation
import FoundationXML
import LLMPerfCore
import Testing

@testable import LLMPerfReport

@Suite struct JUnitReportTests {
    /// A gate result with every character XML cares about (made through `Codable`, as the
    /// statistics types keep their initializers to themselves).
    static func hostileGate() throws -> GateEvaluation {
        let json = """
            {"alpha": 0.05, "passed": false, "results": [
              {"rule": "ttft.p95 < 500ms", "key": "ttft.p95", "passed": false, "measured": 612.3,
               "measuredText": "612.3 ms", "threshold": "< 500 ms",
               "reason": "p95 TTFT 612.3 ms > 500 ms & \\"x\\" 'y' <z>\\nsecond line\\u0007"},
              {"rule": "error_rate < 1%", "key": "error_rate", "passed": true, "measured": 0,
               "measuredText": "0.0%", "threshold": "< 1%", "reason": "error rate 0.0% < 1%"}
            ]}
            """
        return try JSONDecoder().decode(GateEvaluation.self, from: Data(json.utf8))
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
                == "p95 TTFT 612.3 ms > 500 ms & \"x\" 'y' <z>\nsecond line\u{FFFD}")
        #expect(failure.stringValue?.contains("measured: 612.3 ms") == true)
        #expect(cases[1].elements(forName: "failure").isEmpty)
    }
}
