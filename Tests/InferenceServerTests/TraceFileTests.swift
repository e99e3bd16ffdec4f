import Foundation
import InferenceServer
import Testing

@Suite("Trace file")
struct TraceFileTests {
    @Test func recordsEveryEventOfARequest() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(syntheticConfiguration(ttftMs: 30, itlMs: 5, tracePath: path)) { server in
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: chatBody(maxTokens: 4, stream: true, includeUsage: true), headers: ["x-request-id": "calib-1"])
            #expect(response.status == 200)
        }
        // stopped: the trace is flushed
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "# request_id\tchunk_index\tmonotonic_ns\tkind")
        let rows = lines.dropFirst().map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.allSatisfy { $0.count == 4 && $0[0] == "calib-1" })
        #expect(
            rows.map { $0[3] } == [
                "arrival", "role", "first_token", "token", "token", "token", "finish", "usage", "done",
            ])
        #expect(rows.map { $0[1] } == ["-1", "0", "1", "2", "3", "4", "5", "6", "7"])
        let times = rows.compactMap { UInt64($0[2]) }
        #expect(times.count == rows.count)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        // first token no earlier than the configured TTFT after arrival, tokens at least ITL apart (generous upper bound)
        #expect(times[2] - times[0] >= 30_000_000)
        #expect(times[2] - times[0] < 3_000_000_000)
        #expect(times[5] - times[0] >= 45_000_000)
    }
}
