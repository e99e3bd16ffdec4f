import Foundation
import Testing

@testable import InferenceServer

/// The trace file is never silently shortened: a write error stops the recorder, counts the
/// events it could not record and is thrown by `finish()`.
@Suite struct TraceRecorderWriteErrorTests {
    @Test func aWriteErrorIsReportedWithTheEventsLost() throws {
        // Every write to /dev/full fails with ENOSPC, like a full disk.
        let recorder = try TraceRecorder(path: "/dev/full")
        recorder.record(
            requestID: Array("req-1".utf8),
            entries: [.init(index: 0, kind: .firstToken), .init(index: 1, kind: .token)],
            nanos: 42)
        #expect(recorder.failure == nil)
        recorder.flush()
        // The header line and two events were lost.
        #expect(recorder.failure == .writeFailed(path: "/dev/full", errno: ENOSPC, lostLines: 3))
        recorder.record(requestID: Array("req-2".utf8), entries: [.init(index: 0, kind: .firstToken)], nanos: 43)
        #expect(throws: TraceRecorderError.writeFailed(path: "/dev/full", errno: ENOSPC, lostLines: 4)) {
            try recorder.finish()
        }
        let text = TraceRecorderError.writeFailed(path: "/dev/full", errno: ENOSPC, lostLines: 4).description
        #expect(text.contains("No space left on device") && text.contains("4 events not recorded"))
    }

    @Test func aWrittenTraceFinishesCleanly() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).tsv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try TraceRecorder(path: path)
        recorder.record(requestID: Array("req-1".utf8), entries: [.init(index: 0, kind: .firstToken)], nanos: 42)
        try recorder.finish()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last == "req-1\t0\t42\tfirst_token")
    }
}
