import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

@Suite struct HTMLReportTests {
    static let chartIDs = ["cdf-ttft", "cdf-tpot", "cdf-itl", "cdf-e2e", "tokens", "in-flight", "waterfall-0"]

    @Test func escapesRecordedText() throws {
        let html = HTMLReport.render(try ReportFixtures.twoRunInput())
        #expect(!html.contains("<script"))
        #expect(!html.contains("alert(1)</script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;, &#39;single&#39;"))
        #expect(html.contains("upstream said &quot;no&quot;, retry later"))
        #expect(html.contains("&lt;b&gt;oops&lt;/b&gt;"))
        #expect(!html.contains("<b>oops"))
        #expect(html.contains("chat/tuned, &quot;fast&quot;"))
        #expect(html.contains("Say &lt;hi&gt; &amp; \\&quot;bye\\&quot;"))  // the scenario YAML
    }

    @Test func hasEveryChartForOneRun() throws {
        let html = HTMLReport.render(ReportInput(runs: [ReportFixtures.baseline]))
        for id in Self.chartIDs { #expect(html.contains("data-chart=\"\(id)\""), "chart \(id)") }
        #expect(!html.contains("id=\"comparison\""))
        #expect(html.contains("<polyline data-series=\"0\""))
        #expect(!html.contains("data-series=\"1\""))
    }

    @Test func overlaysEightRuns() throws {
        let runs = ReportFixtures.manyRuns(8)
        let comparison = try RunComparison(
            runs: runs.map { ComparisonInput(label: $0.info.displayName, traces: $0.traces) },
            options: RunComparison.Options(bootstrapResamples: 50))
        let html = HTMLReport.render(ReportInput(runs: runs, comparison: comparison))
        for id in Self.chartIDs + ["waterfall-7"] { #expect(html.contains("data-chart=\"\(id)\""), "chart \(id)") }
        let ttft = try #require(chart("cdf-ttft", in: html))
        for i in 0..<8 {
            #expect(ttft.contains("data-series=\"\(i)\" fill=\"none\" stroke=\"\(ChartPalette.runColors[i])\""))
            #expect(ttft.contains("sweep/v\(i) &lt;b&gt; (r\(i)000000)"))  // legend
        }
        #expect(Set(ChartPalette.runColors).count == 8)
        #expect(html.contains("id=\"comparison\""))
        #expect(!html.contains("<b>"))
    }

    @Test func referencesNothingOutsideTheFile() throws {
        let html = HTMLReport.render(try ReportFixtures.twoRunInput())
        let lower = html.lowercased()
        for needle in ["src=", "href=", "url(", "@import", "<link", "<script", "<iframe", "<img", "<object", "<embed"] {
            #expect(!lower.contains(needle), "found \(needle)")
        }
        // The only http(s):// text is the recorded target URL, shown as text.
        let urls =
            lower.components(separatedBy: "http://").count - 1 + lower.components(separatedBy: "https://").count - 1
        let targets = lower.components(separatedBy: "http://127.0.0.1:8080/v1").count - 1
        #expect(urls == targets)
        #expect(!html.contains("xmlns="))
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\""))
    }

    @Test func axesHaveTicksAndUnits() throws {
        let html = HTMLReport.render(ReportInput(runs: [ReportFixtures.baseline]))
        let ttft = try #require(chart("cdf-ttft", in: html))
        #expect(ttft.contains(">TTFT (ms)</text>"))
        #expect(ttft.contains(">50%</text>") && ttft.contains(">100%</text>"))
        #expect(ttft.components(separatedBy: "text-anchor=\"middle\">").count > 4)
        let tokens = try #require(chart("tokens", in: html))
        #expect(tokens.contains(">output tokens/s</text>"))
        #expect(tokens.contains(">time since the run&#39;s first request (s)</text>"))
    }

    @Test func cdfCurveIsDownsampledAndExact() throws {
        var traces: [RequestTrace] = []
        for i in 0..<2_000 {
            let start = UInt64(i) * 1_000_000
            traces.append(
                RequestTrace(
                    index: i, startedAtNanos: start, chunkAtNanos: [start + UInt64(i + 1) * 1_000_000],
                    chunkTokens: [1], endedAtNanos: start + UInt64(i + 2) * 1_000_000))
        }
        let curve = try #require(CDFCurve(metric: .ttft, traces: traces))
        #expect(curve.points.count == CDFCurve.maximumPoints + 1)
        #expect(curve.totalCount == 2_000 && curve.sampledCount == 2_000)
        #expect(curve.points.last!.x == 2_000 && curve.points.last!.y == 1)
        #expect(curve.points[1].x == 1 && curve.points[1].y == 1.0 / 2_000)
    }

    @Test func timeSeriesBucketsBySecond() throws {
        // Two requests of 10 one-token chunks, 0.1 s apart, over two seconds; overlapping 0.5 s.
        func trace(_ index: Int, from start: UInt64) -> RequestTrace {
            let chunks = (1...10).map { start + UInt64($0) * 100_000_000 }
            return RequestTrace(
                index: index, startedAtNanos: start, chunkAtNanos: chunks, chunkTokens: Array(repeating: 1, count: 10),
                endedAtNanos: start + 1_000_000_000)
        }
        let series = try #require(RunTimeSeries(traces: [trace(0, from: 0), trace(1, from: 500_000_000)]))
        #expect(series.bucketSeconds == 1)
        #expect(series.times == [0.5, 1.25])  // the last, half-second bucket
        #expect(series.inFlight[0] == 1.5 && series.inFlight[1] == 1)
        #expect(series.outputTokensPerSecond[0] == 13)  // 0.1…0.9 s and 0.6…0.9 s: 9 + 4 chunks in [0, 1)
        #expect(series.outputTokensPerSecond[1] == 14)  // 1.0 s and 1.0…1.5 s: 7 chunks in 0.5 s
    }

    @Test func escapingCoversEveryMarkupCharacter() {
        #expect(HTMLEscaping.escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f")
        #expect(HTMLEscaping.escape("bell\u{07}tab\tnl\n") == "bell\u{FFFD}tab\tnl\n")
        #expect(HTMLEscaping.escape("plain ünïcödé") == "plain ünïcödé")
    }

    /// The `<svg …>…</svg>` element with `data-chart="id"`.
    func chart(_ id: String, in html: String) -> String? {
        guard
            let start = html.range(of: "<svg class=\"chart\" data-chart=\"\(id)\"")
                ?? html.range(of: "<svg class=\"chart waterfall\" data-chart=\"\(id)\""),
            let end = html.range(of: "</svg>", range: start.upperBound..<html.endIndex)
        else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }
}
