import Foundation
import Testing

/// Byte-for-byte comparison with a file under `Golden/`, read from the source tree (found via
/// `#filePath`, so a re-recorded file counts at once, with no resource copy to refresh). With
/// `LLMPERF_RECORD_GOLDEN=1` the file is (re)written instead and the check passes with a note. A mismatch reports the first differing line with its neighbors
/// and leaves the actual output next to a `diff -u` command line.
enum GoldenFile {
    static var recording: Bool { ProcessInfo.processInfo.environment["LLMPERF_RECORD_GOLDEN"] == "1" }

    /// `Tests/LLMPerfReportTests/Golden` in the source tree.
    static var sourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    }

    static func check(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if recording {
            let url = sourceDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: sourceDirectory, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url)
            print("note: recorded golden file \(url.path) (LLMPERF_RECORD_GOLDEN=1)")
            return
        }
        let url = sourceDirectory.appendingPathComponent(name)
        guard let expectedData = FileManager.default.contents(atPath: url.path) else {
            Issue.record(
                "golden file Golden/\(name) is missing: run the tests with LLMPERF_RECORD_GOLDEN=1 to record it",
                sourceLocation: sourceLocation)
            return
        }
        let actualData = Data(actual.utf8)
        guard actualData != expectedData else { return }
        let actualURL = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-golden-actual-\(name)")
        try? actualData.write(to: actualURL)
        let expected = String(decoding: expectedData, as: UTF8.self)
        Issue.record(
            Comment(
                rawValue: "output differs from golden file Golden/\(name)\n" + firstDifference(expected, actual)
                    + "\nfull diff: diff -u \(sourceDirectory.appendingPathComponent(name).path) \(actualURL.path)"
                    + "\nre-record (if the change is intended): LLMPERF_RECORD_GOLDEN=1 swift test"),
            sourceLocation: sourceLocation)
    }

    /// The first differing line (1-based) with two lines of context on each side, visible
    /// whitespace (`␍` for CR, `⇥` for tab) so invisible differences show.
    static func firstDifference(_ expected: String, _ actual: String) -> String {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var line = 0
        while line < min(e.count, a.count) && e[line] == a[line] { line += 1 }
        func show(_ lines: [Substring], _ i: Int) -> String {
            i < lines.count
                ? String(lines[i]).replacingOccurrences(of: "\r", with: "␍").replacingOccurrences(of: "\t", with: "⇥")
                : "<end of file>"
        }
        var out = "first difference at line \(line + 1) (expected \(e.count) lines, got \(a.count)):\n"
        for i in max(0, line - 2)..<line { out += "    \(show(e, i))\n" }
        out += "  - \(show(e, line))\n  + \(show(a, line))\n"
        for i in (line + 1)..<min(line + 3, max(e.count, a.count)) {
            out += "  - \(show(e, i))\n  + \(show(a, i))\n"
        }
        return out
    }
}
