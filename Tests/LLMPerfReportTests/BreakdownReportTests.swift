import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// Where the time went (`runs show`, the reports) and where it moved (`compare`), from hand-built
/// breakdowns and traces: exact text, the sentence rule, the SVG bar's proportions and legend, and the
/// server's phases in the JSON and CSV reports.
@Suite struct BreakdownReportTests {
    typealias Segment = LatencyBreakdown.Segment
    static let plain = TerminalStyle(enabled: false)
    static let ms: UInt64 = 1_000_000

    /// A summary from medians by segment (the others 0).
    static func summary(_ medians: [Segment: Double], count: Int = 3, complete: Bool = true)
        -> LatencyBreakdown.Summary
    {
        LatencyBreakdown.Summary(
            count: count, medians: Segment.allCases.map { medians[$0] ?? 0 }, complete: complete)
    }

    /// dns 1, tcp 2, tls 0, request 0.5, preprocess 0.5, queue 4, prefill 10, first token on the wire 2,
    /// decode 25, postprocess 0.5, last byte on the wire 4.5: 50 in all.
    static let medians: [Segment: Double] = [
        .dns: 1, .tcp: 2, .request: 0.5, .preprocess: 0.5, .queue: 4, .prefill: 10, .firstTokenWire: 2, .decode: 25,
        .postprocess: 0.5, .lastByteWire: 4.5,
    ]

    /// One request as `LatencyBreakdownTests` builds it: start at 1 s; DNS 1 ms, connected at 3 ms, request
    /// written at 3.5 ms, first chunk at 20 + `later` ms, last byte at 50 + `later` ms; the server:
    /// preprocess 0.5, queue 4 + `later`, prefill 10, decode 25, postprocess 0.5.
    static func trace(index: Int, later: Double = 0, complete: Bool = true) -> RequestTrace {
        func nanos(_ value: Double) -> UInt64 { UInt64((value * 1e6).rounded()) }
        let start: UInt64 = 1_000 * ms
        return RequestTrace(
            index: index, startedAtNanos: start, dnsNanos: 1 * ms, connectNanos: 3 * ms, tlsNanos: 0,
            sentNanos: 3 * ms + ms / 2, chunkAtNanos: [start + nanos(20 + later), start + nanos(49 + later)],
            chunkTokens: [1, 1], endedAtNanos: start + nanos(50 + later),
            usage: TokenUsage(promptTokens: 5, completionTokens: 2), httpStatus: 200,
            serverTimings: ServerTimings(
                promptNanos: 10 * ms, generationNanos: 25 * ms, totalNanos: complete ? nanos(40 + later) : nil,
                queueNanos: complete ? nanos(4 + later) : nil, preprocessNanos: complete ? ms / 2 : nil,
                postprocessNanos: complete ? ms / 2 : nil, cachedTokens: complete ? 3 : nil,
                batchSize: complete ? 2.5 : nil))
    }

    // MARK: runs show

    @Test func runsShowListsEverySegmentWithItsSideShareAndBar() {
        let text = BreakdownText.render(Self.summary(Self.medians), style: Self.plain)
        #expect(
            text == """
                Where the time went (median per segment, 3 requests)
                segment                  side    median ms   share
                ───────────────────────  ──────  ─────────  ──────  ───────────────
                DNS                      client       1.00    2.0%  ▋
                TCP connect              client       2.00    4.0%  █▎
                TLS handshake            client          0    0.0%
                request sent             client      0.500    1.0%  ▎
                server preprocess        server      0.500    1.0%  ▎
                server queue             server       4.00    8.0%  ██▍
                server prefill           server       10.0   20.0%  ██████
                first token on the wire  wire         2.00    4.0%  █▎
                server decode            server       25.0   50.0%  ███████████████
                server postprocess       server      0.500    1.0%  ▎
                last byte on the wire    wire         4.50    9.0%  ██▊
                sum                                   50.0  100.0%
                network and client       wire         6.50   13.0%
                note: each segment's own median: the sum need not be the median request's total

                """, "\(text)")
    }

    @Test func aServerReportingOnlyPrefillAndDecodeIsNoted() {
        let complete = BreakdownText.render(Self.summary(Self.medians), style: Self.plain)
        #expect(!complete.contains("only its prefill and decode"))
        let partial = BreakdownText.render(Self.summary(Self.medians, complete: false), style: Self.plain)
        #expect(
            partial.hasSuffix(
                "note: the server reported only its prefill and decode: its preprocessing, queue and postprocessing "
                    + "count as 0 here and lie in the segments on the wire\n"))
    }

    @Test func runsShowEndsWithTheSectionOnlyWhenThereIsABreakdown() {
        let info = ReportFixtures.info(id: "r1", name: "chat", openLoop: false)
        let traces = (0..<3).map { Self.trace(index: $0) }
        let summary = RunSummary(traces: traces)
        let breakdown = LatencyBreakdown.Summary(traces)
        let with = RunSummaryRenderer.render(run: info, summary: summary, breakdown: breakdown, style: Self.plain)
        #expect(with.hasSuffix("\n\n" + BreakdownText.render(breakdown!, style: Self.plain)))
        let without = RunSummaryRenderer.render(run: info, summary: summary, style: Self.plain)
        #expect(!without.contains("Where the time went"))
    }

    @Test func theNewServerMetricsAreRowsInWaterfallOrderAndHiddenWithoutValues() {
        let info = ReportFixtures.info(id: "r1", name: "chat", openLoop: false)
        let text = RunSummaryRenderer.render(
            run: info, summary: RunSummary(traces: (0..<3).map { Self.trace(index: $0) }), style: Self.plain)
        let names = text.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        let server = names.filter { $0.hasPrefix("server_") || $0 == "network_client" }
        #expect(
            server == [
                "server_preprocess", "server_queue", "server_prompt", "server_generation", "server_postprocess",
                "server_total", "network_client",
            ], "\(text)")
        // llama.cpp-like: prefill and decode only; the rest have no values and no rows.
        let partial = RunSummaryRenderer.render(
            run: info, summary: RunSummary(traces: (0..<3).map { Self.trace(index: $0, complete: false) }),
            style: Self.plain)
        for name in ["server_queue", "server_preprocess", "server_postprocess", "server_total", "network_client"] {
            #expect(!partial.contains(name), "\(name)")
        }
        #expect(partial.contains("server_prompt"))
    }

    @Test func summaryJSONCarriesTheBreakdown() throws {
        let info = ReportFixtures.info(id: "r1", name: "chat", openLoop: false)
        let traces = (0..<3).map { Self.trace(index: $0, later: Double($0) * 2) }
        let text = try SummaryJSON.encode(
            run: info, summary: RunSummary(traces: traces), breakdown: LatencyBreakdown.Summary(traces))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let breakdown = try #require(object["breakdown"] as? [String: Any])
        #expect(breakdown["requests"] as? Int == 3 && breakdown["complete"] as? Bool == true)
        let segments = try #require(breakdown["segments"] as? [[String: Any]])
        #expect(segments.map { $0["segment"] as? String } == Segment.allCases.map(\.rawValue))
        #expect(segments.map { $0["side"] as? String } == Segment.allCases.map(\.side.rawValue))
        // The queue's median of 4, 6 and 8; the sum of the medians 52.
        #expect(abs((segments[5]["medianMs"] as? Double ?? 0) - 6) < 1e-9)
        #expect(abs((breakdown["sumMs"] as? Double ?? 0) - 52) < 1e-9)
        #expect(abs((breakdown["networkAndClientMs"] as? Double ?? 0) - 6.5) < 1e-9)
        #expect(object["run"] != nil && object["metrics"] != nil)
        let none = try SummaryJSON.encode(run: info, summary: RunSummary(traces: traces))
        #expect(!none.contains("\"breakdown\""))
    }

    @Test func summaryJSONSaysWhichTokenizerCounted() throws {
        let info = ReportFixtures.info(id: "r1", name: "chat", openLoop: false)
        let summary = RunSummary(traces: (0..<2).map { Self.trace(index: $0, later: 0) })
        let one = try SummaryJSON.encode(run: info, summary: summary, tokenizer: "default (model.gguf)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(one.utf8)) as? [String: Any])
        #expect(object["tokenizer"] as? String == "default (model.gguf)")
        let two = try SummaryJSON.encode(
            runs: [(info, summary), (info, summary)], tokenizers: [nil, "tokenizer.json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(two.utf8)) as? [[String: Any]])
        #expect(list.map { $0["tokenizer"] as? String } == [nil, "tokenizer.json"])
        #expect(!(try SummaryJSON.encode(run: info, summary: summary)).contains("\"tokenizer\""))
    }

    // MARK: where it moved

    static func shift(_ baseline: [Segment: Double], _ candidate: [Segment: Double]) -> LatencyBreakdown.Shift {
        LatencyBreakdown.Shift(baseline: summary(baseline), candidate: summary(candidate))
    }

    static func moved(_ changes: [Segment: Double]) -> LatencyBreakdown.Shift {
        shift(medians, medians.merging(changes.mapValues { $0 }) { $0 + $1 })
    }

    @Test func oneSegmentHoldingNearlyAllOfTheChangeIsAllOfIt() {
        // queue 4 → 44 is +40 of +40.5 (98.8%).
        let shift = Self.moved([.queue: 40, .prefill: 0.5])
        #expect(
            BreakdownSentence.text(shift, scope: .ttft)
                == "TTFT p50 moved +40.5 ms, all in the server's queue wait (+40.0 ms).")
        // A driver that moved more than the whole (the rest went the other way) is all of it too.
        #expect(
            BreakdownSentence.text(Self.moved([.queue: -3.5, .prefill: 1]), scope: .ttft)
                == "TTFT p50 moved −2.50 ms, all in the server's queue wait (−3.50 ms).")
    }

    @Test func oneSegmentHoldingMostOfTheChangeIsHowMuchOfIt() {
        // prefill 10 → 44 is +34 of +40 (85%).
        let shift = Self.moved([.prefill: 34, .firstTokenWire: 6])
        #expect(
            BreakdownSentence.text(shift, scope: .ttft)
                == "TTFT p50 moved +40.0 ms; +34.0 ms of it is the server's prefill.")
    }

    @Test func severalSegmentsAreASpread() {
        #expect(
            BreakdownSentence.text(Self.moved([.prefill: 6, .queue: 5, .firstTokenWire: 1]), scope: .ttft)
                == "TTFT p50 moved +12.0 ms, spread over the server's prefill (+6.00 ms) and the server's queue wait "
                + "(+5.00 ms).")
        // Three drivers holding less than 80%: "and others".
        let wide = Self.moved([.dns: 1.5, .tcp: 1.25, .tls: 1, .request: 0.75, .preprocess: 0.5])
        #expect(
            BreakdownSentence.text(wide, scope: .ttft)
                == "TTFT p50 moved +5.00 ms, spread over DNS (+1.50 ms), the TCP connect (+1.25 ms), the TLS "
                + "handshake (+1.00 ms), and others.")
    }

    @Test func theWholeRequestHasItsOwnSentenceAndNoChangeSaysSo() {
        let decode = Self.moved([.decode: 20])
        #expect(BreakdownSentence.text(decode, scope: .ttft) == "TTFT p50 did not move.")
        #expect(
            BreakdownSentence.text(decode, scope: .request)
                == "Total p50 moved +20.0 ms, all in the server's decode (+20.0 ms).")
        #expect(BreakdownSentence.text(Self.moved([:]), scope: .request) == "Total p50 did not move.")
    }

    @Test func whereItMovedListsEverySegmentAndTheSums() {
        let pair = BreakdownComparison(
            baseline: "base", candidate: "fast", shift: Self.moved([.queue: -3.5, .prefill: -0.5, .decode: -2]))
        let text = BreakdownComparisonText.render([pair], style: Self.plain)
        #expect(
            text == """

                Where it moved: base → fast (median per segment, ms; 3 → 3 requests)
                segment                  side     base   fast  change
                ───────────────────────  ──────  ─────  ─────  ──────
                DNS                      client   1.00   1.00       0
                TCP connect              client   2.00   2.00       0
                TLS handshake            client      0      0       0
                request sent             client  0.500  0.500       0
                server preprocess        server  0.500  0.500       0
                server queue             server   4.00  0.500   −3.50
                server prefill           server   10.0   9.50  −0.500
                first token on the wire  wire     2.00   2.00       0
                server decode            server   25.0   23.0   −2.00
                server postprocess       server  0.500  0.500       0
                last byte on the wire    wire     4.50   4.50       0
                sum to the first token            20.0   16.0   −4.00
                sum, whole request                50.0   44.0   −6.00
                TTFT p50 moved −4.00 ms; −3.50 ms of it is the server's queue wait.
                Total p50 moved −6.00 ms, spread over the server's queue wait (−3.50 ms) and the server's decode \
                (−2.00 ms).

                """, "\(text)")
        let markdown = BreakdownComparisonText.markdown([pair])
        #expect(markdown.hasPrefix("## Where it moved\n\n**base → fast** (median per segment, ms; 3 → 3 requests)\n"))
        #expect(markdown.contains("| server queue | server | 4.00 | 0.500 | −3.50 |\n"))
        #expect(markdown.contains("\nTTFT p50 moved −4.00 ms; −3.50 ms of it is the server's queue wait.  \nTotal"))
    }

    @Test func pairsNeedABreakdownOnBothSides() {
        let a = Self.summary(Self.medians)
        let pairs = BreakdownComparison.pairs(labels: ["a", "b", "c"], breakdowns: [a, nil, a])
        #expect(pairs.map(\.candidate) == ["c"] && pairs[0].baseline == "a")
        #expect(BreakdownComparison.pairs(labels: ["a", "b"], breakdowns: [nil, a]).isEmpty)
    }

    @Test func compareJSONKeepsTheComparisonsKeysAndAddsTheShifts() throws {
        let comparison = try ReportFixtures.comparison()
        let pair = BreakdownComparison(baseline: "base", candidate: "fast", shift: Self.moved([.queue: -3.5]))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(ComparisonJSON.encode(comparison, shifts: [pair]).utf8))
                as? [String: Any])
        #expect(object["comparisons"] != nil && object["options"] != nil)
        let shifts = try #require(object["breakdownShifts"] as? [[String: Any]])
        let ttft = try #require(shifts.first?["ttft"] as? [String: Any])
        #expect(ttft["sentence"] as? String == "TTFT p50 moved −3.50 ms, all in the server's queue wait (−3.50 ms).")
        #expect((ttft["drivers"] as? [[String: Any]])?.first?["segment"] as? String == "queue")
        // Without shifts: the comparison's own encoding, byte for byte.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        #expect(
            try ComparisonJSON.encode(comparison) == String(decoding: try encoder.encode(comparison), as: UTF8.self))
    }

    // MARK: HTML

    static func breakdownRun(count: Int = 5) -> ReportRun {
        ReportRun(
            info: ReportFixtures.info(id: "r5b5b5b", name: "chat", variant: "phases", openLoop: false),
            traces: (0..<count).map { Self.trace(index: $0, later: Double($0 % 7)) })
    }

    /// The SVG element with `data-chart="id"`.
    static func chart(_ id: String, in html: String) throws -> String {
        let start = try #require(html.range(of: "data-chart=\"\(id)\""))
        let end = try #require(html.range(of: "</svg>", range: start.upperBound..<html.endIndex))
        return String(html[start.lowerBound..<end.upperBound])
    }

    static func attribute(_ name: String, in element: Substring) -> String? {
        guard let range = element.range(of: " \(name)=\"") else { return nil }
        return element[range.upperBound...].split(separator: "\"", maxSplits: 1).first.map(String.init)
    }

    @Test func theMedianBarsSegmentsAreAsWideAsTheirShare() throws {
        let run = Self.breakdownRun()
        let summary = try #require(run.breakdown)
        let html = HTMLReport.render(ReportInput(runs: [run]))
        let bar = try Self.chart("breakdown-0", in: html)
        var widths: [String: Double] = [:]
        for piece in bar.components(separatedBy: "<rect class=\"segment\"").dropFirst() {
            let element = Substring(piece)
            let segment = try #require(Self.attribute("data-segment", in: element))
            widths[segment] = Double(try #require(Self.attribute("width", in: element)))
        }
        let drawn = Segment.allCases.filter { summary[$0] > 0 }
        #expect(Set(widths.keys) == Set(drawn.map(\.rawValue)))
        let totalWidth = widths.values.reduce(0, +)
        #expect(abs(totalWidth - (1100 - 32)) < 0.01)
        for segment in drawn {
            let share = try #require(widths[segment.rawValue]) / totalWidth
            #expect(abs(share - summary[segment] / summary.totalMillis) < 1e-5, "\(segment)")
        }
        // The legend names every segment whose median is not 0, with its ms, and no other.
        let legend = Set(
            bar.components(separatedBy: "<g class=\"legend-item\" data-segment=\"").dropFirst().map {
                String($0.prefix { $0 != "\"" })
            })
        #expect(legend == Set(Segment.allCases.filter { summary[$0] != 0 }.map(\.rawValue)))
        #expect(!legend.contains("tls"))
        #expect(bar.contains(">server queue \(Formatting.milliseconds(summary[.queue])) ms</text>"))
        // Coloured by side: the server's segments in the server's hues, the legend's sides named.
        for side in ["client", "server", "wire"] { #expect(bar.contains(">\(side)</text>")) }
    }

    @Test func theRequestWaterfallShowsTheSlowestAndASpread() throws {
        let run = Self.breakdownRun(count: 60)
        let rows = SVGBreakdownWaterfall.sample(run.traces, count: 20, slowest: 5)
        #expect(rows.count == 20)
        #expect(rows.map(\.index) == rows.map(\.index).sorted())
        // later = index % 7: the slowest are those at 6 (6, 13, …, 55); the first five of them by index.
        let slowest = Set(run.traces.filter { $0.index % 7 == 6 }.map(\.index))
        #expect(rows.filter { slowest.contains($0.index) }.count >= 5)
        #expect(rows.first?.index == 0)
        let html = HTMLReport.render(ReportInput(runs: [run]), options: HTMLReport.Options(waterfallRequests: 20))
        let waterfall = try Self.chart("breakdown-waterfall-0", in: html)
        #expect(waterfall.components(separatedBy: "<g class=\"request\">").count - 1 == 20)
        // Each row's segments in the bar's colours.
        #expect(waterfall.contains("data-segment=\"queue\" x=") && waterfall.contains(Segment.queue.color))
    }

    @Test func noBreakdownNoSectionAndTwoRunsSayWhereItMoved() throws {
        let plain = HTMLReport.render(ReportInput(runs: [ReportFixtures.baseline]))
        #expect(!plain.contains("id=\"breakdown\""))
        let faster = ReportRun(
            info: ReportFixtures.info(id: "r6c6c6c", name: "chat", variant: "fast", openLoop: false),
            traces: (0..<5).map { Self.trace(index: $0) })
        let html = HTMLReport.render(ReportInput(runs: [Self.breakdownRun(), faster]))
        #expect(html.contains("id=\"breakdown\""))
        #expect(html.contains("<h3>Where it moved: chat/phases (r5b5b5b) → chat/fast (r6c6c6c)</h3>"))
        // Queue medians 6 → 4, nothing else moved before the first token.
        #expect(html.contains("<p>TTFT p50 moved −2.00 ms, all in the server&#39;s queue wait (−2.00 ms).</p>"))
        let markdown = MarkdownReport.render(ReportInput(runs: [Self.breakdownRun(), faster]))
        #expect(markdown.contains("**Where the time went (median per segment, 5 requests)**"))
        #expect(markdown.contains("## Where it moved"))
    }

    // MARK: JSON and CSV

    @Test func theRequestCSVCarriesTheServersPhases() throws {
        let run = ReportRun(
            info: ReportFixtures.info(id: "r1", name: "chat", openLoop: false),
            traces: [Self.trace(index: 0), Self.trace(index: 1, complete: false)])
        let lines = CSVReport.requests([run]).components(separatedBy: "\r\n")
        #expect(
            lines[0].hasSuffix(
                ",server_queue_ms,server_preprocess_ms,server_postprocess_ms,server_cached_tokens,server_batch_size,"
                    + "network_client_ms"))
        #expect(lines[1].hasSuffix(",10,25,40,,,,4,0.5,0.5,3,2.5,6.5"), "\(lines[1])")
        #expect(lines[2].hasSuffix(",10,25,,,,,,,,,,"), "\(lines[2])")
    }

    @Test func theJSONReportCarriesTheServersPhasesAndTheBreakdown() throws {
        let run = ReportRun(
            info: ReportFixtures.info(id: "r1", name: "chat", openLoop: false),
            traces: [Self.trace(index: 0), Self.trace(index: 1, later: 2)])
        let data = try JSONReport.encode(ReportInput(runs: [run]))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let first = try #require((object["runs"] as? [[String: Any]])?.first)
        let request = try #require((first["requests"] as? [[String: Any]])?.first)
        let timings = try #require(request["serverTimings"] as? [String: Any])
        #expect(timings["queueNanos"] as? Int == 4_000_000 && timings["preprocessNanos"] as? Int == 500_000)
        #expect(timings["postprocessNanos"] as? Int == 500_000 && timings["cachedTokens"] as? Int == 3)
        #expect(timings["batchSize"] as? Double == 2.5)
        let metrics = try #require(request["metrics"] as? [String: Double])
        #expect(metrics["server_queue"] == 4 && metrics["network_client"] == 6.5)
        let breakdown = try #require(first["breakdown"] as? [String: Any])
        #expect(breakdown["requests"] as? Int == 2)
        #expect(abs((breakdown["sumMs"] as? Double ?? 0) - 51) < 1e-9)
    }
}
