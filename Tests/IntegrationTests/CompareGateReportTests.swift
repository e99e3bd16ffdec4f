import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// compare, gate and report end to end: real runs against the synthetic backend, stored in a
/// real SQLite file, read back by the executable.
@Suite(.serialized) struct CompareGateReportTests {
    /// Runs a scenario with the given TTFT and returns the run id from the JSON summary.
    static func measure(_ ws: Workspace, name: String, ttftMs: Int, label: String) throws -> String {
        let path = try ws.write(
            "\(name)-\(label).yml",
            RunCommandTests.scenario(
                name: name, ttftMs: ttftMs, itlMs: 2, tokens: 6, concurrency: 4, requests: 40, warmup: 2))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--json", "--label", label])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let run = try #require(json["run"] as? [String: Any])
        return try #require(run["id"] as? String)
    }

    static func ttftRow(_ compareJSON: String) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(compareJSON.utf8)) as? [String: Any])
        let comparisons = try #require(object["comparisons"] as? [[String: Any]])
        let rows = try #require(comparisons.first?["rows"] as? [[String: Any]])
        return try #require(rows.first { $0["measure"] as? String == "ttft" })
    }

    @Test func slowerTTFTIsWorseSameSettingsIsNoChange() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let fast = try Self.measure(ws, name: "chat", ttftMs: 50, label: "fast")
        let slow = try Self.measure(ws, name: "chat", ttftMs: 80, label: "slow")
        let again = try Self.measure(ws, name: "chat", ttftMs: 50, label: "again")

        let worse = try LLMPerfProcess.run(["compare", fast, slow, "--format", "json", "--db", ws.database])
        #expect(worse.status == 0, "\(worse.stderr)")
        let row = try Self.ttftRow(worse.stdout)
        #expect(row["verdict"] as? String == "worse")
        #expect(try #require(row["pValue"] as? Double) < 0.05)

        // Same settings, measured at different moments: on a busy machine the medians can differ by a
        // few percent and still be "significant" on 40 requests, so the practical threshold is 20 %
        // (10 ms of the 50 ms TTFT); the 60 % slower run above is far beyond it.
        let same = try LLMPerfProcess.run([
            "compare", "label:fast", "label:again", "--format", "json", "--min-change", "20%", "--db", ws.database,
        ])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(try Self.ttftRow(same.stdout)["verdict"] as? String == "no_change")

        // The terminal table and Markdown name the verdicts too.
        let text = try LLMPerfProcess.run(["compare", "chat~2", "chat~1", "--db", ws.database])
        #expect(text.status == 0 && text.stdout.contains("worse"))
        let md = try LLMPerfProcess.run(["compare", fast, slow, "--format", "md", "--db", ws.database])
        #expect(md.status == 0 && md.stdout.contains("| ttft"))

        // Gate: absolute rules pass and fail with exit codes 0 and 3; a regression rule
        // against the fast run fails for the slow one.
        let pass = try LLMPerfProcess.run(["gate", fast, "--rule", "ttft.p95 < 500ms", "--db", ws.database])
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        let summaryPath = ws.root.appendingPathComponent("summary.md").path
        try "# earlier step\n".write(toFile: summaryPath, atomically: true, encoding: .utf8)
        let junitPath = ws.root.appendingPathComponent("gate.xml").path
        let fail = try LLMPerfProcess.run([
            "gate", slow, "--rule", "ttft.p95 < 60ms", "--baseline", fast, "--max-regression", "ttft.p50=10%",
            "--junit", junitPath, "--markdown", summaryPath, "--db", ws.database,
        ])
        #expect(fail.status == 3, "\(fail.stdout)\(fail.stderr)")
        #expect(fail.stdout.contains("FAIL"))
        let markdown = try String(contentsOfFile: summaryPath, encoding: .utf8)
        #expect(markdown.hasPrefix("# earlier step\n"))
        #expect(markdown.contains("ttft.p95"))

        #if canImport(FoundationXML)
            let xml = try XMLDocument(contentsOf: URL(fileURLWithPath: junitPath))
            let cases = try xml.nodes(forXPath: "//testcase")
            #expect(cases.count == 2)
            #expect(try xml.nodes(forXPath: "//testcase/failure").count == 2)
        #endif

        let invalid = try LLMPerfProcess.run(["gate", fast, "--rule", "ttft.p95 < fast", "--db", ws.database])
        #expect(invalid.status == 2)
        let unknown = try LLMPerfProcess.run(["gate", "nosuch@latest", "--rule", "ttft.p95 < 1s", "--db", ws.database])
        #expect(unknown.status == 2)

        // Reports: HTML with both runs and the comparison, CSV with one row per request.
        let htmlPath = ws.root.appendingPathComponent("r.html").path
        let html = try LLMPerfProcess.run([
            "report", fast, slow, "--format", "html", "-o", htmlPath, "--db", ws.database,
        ])
        #expect(html.status == 0, "\(html.stderr)")
        let page = try String(contentsOfFile: htmlPath, encoding: .utf8)
        #expect(page.contains("<svg") && page.contains(fast) && page.contains(slow))
        let csv = try LLMPerfProcess.run(["report", fast, "--format", "csv", "--db", ws.database])
        #expect(csv.status == 0)
        #expect(csv.stdout.split(separator: "\r\n").count == 1 + 42)
    }

    @Test func runWithGateExitsThreeOnFailure() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml",
            RunCommandTests.scenario(
                name: "gated", ttftMs: 30, itlMs: 1, tokens: 4, requests: 8, warmup: 0,
                extra: "slo:\n  ttft.p50: 5ms\n"))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet", "--gate"])
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("gate failed"))
    }
}
