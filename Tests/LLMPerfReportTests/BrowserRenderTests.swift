import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// The HTML report opened in a real browser (Debian's `chromium`, headless): two runs, one
/// DOM dump and one screenshot. Skipped, with the reason, only when chromium is not installed.
@Suite struct BrowserRenderTests {
    static let chromium = HeadlessChromium.find()

    /// A blank white 1200×2000 page's screenshot measured 11,139 bytes with Debian's chromium
    /// (PNG of uniform rows compresses to almost nothing); the two-run report's is about
    /// 180 KB. 40,000 bytes leaves a wide margin on both sides.
    static let minimumScreenshotBytes = 40_000

    @Test(.enabled(if: chromium != nil, "chromium not found: apt-get install -y chromium"))
    func reportRendersInChromium() throws {
        let chromium = try #require(Self.chromium)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        try Data(HTMLReport.render(try ReportFixtures.twoRunInput()).utf8).write(to: page)
        let url = page.absoluteString

        // The DOM as the browser built it.
        let dump = try chromium.run(["--dump-dom", url], workDirectory: directory)
        #expect(dump.status == 0, "chromium --dump-dom exited \(dump.status): \(dump.stderr.suffix(2000))")
        let dom = dump.stdout
        for id in ["cdf-ttft", "cdf-tpot", "cdf-itl", "cdf-e2e", "tokens", "in-flight", "waterfall-0", "waterfall-1"] {
            #expect(dom.contains("data-chart=\"\(id)\""), "chart \(id) missing from the DOM")
        }
        #expect(dom.components(separatedBy: "<polyline").count - 1 >= 12)
        // The hostile output is text in a tooltip, not an element: no script element exists.
        #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!dom.lowercased().contains("<script"))
        #expect(!dom.contains("<b>oops</b>"))

        // A screenshot, with console logging: a script error, a blocked load (the page's
        // Content-Security-Policy reports every attempted one) or an alert would show as a
        // CONSOLE line.
        let png = directory.appendingPathComponent("report.png")
        let shot = try chromium.run(
            ["--enable-logging=stderr", "--v=0", "--screenshot=\(png.path)", "--window-size=1200,2000", url],
            workDirectory: directory)
        #expect(shot.status == 0, "chromium --screenshot exited \(shot.status): \(shot.stderr.suffix(2000))")
        let console = shot.stderr.split(separator: "\n").filter {
            $0.contains(":CONSOLE") || $0.contains("Uncaught") || $0.contains("Refused to")
        }
        #expect(console.isEmpty, "console messages: \(console.joined(separator: "\n"))")
        let image = try #require(FileManager.default.contents(atPath: png.path), "no screenshot written")
        let header = try #require(PNGHeader(image))
        #expect(header.width == 1200 && header.height == 2000)
        #expect(image.count > Self.minimumScreenshotBytes, "screenshot is \(image.count) bytes: blank?")
    }
}

/// The size from a PNG's IHDR chunk (no decompression needed).
struct PNGHeader {
    var width: Int
    var height: Int

    init?(_ data: Data) {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
            bytes[12..<16].elementsEqual(Array("IHDR".utf8))
        else { return nil }
        func int(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        width = int(16)
        height = int(20)
    }
}
