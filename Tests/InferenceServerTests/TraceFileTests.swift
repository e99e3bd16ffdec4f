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
        let all = lines.dropFirst().map { $0.split(separator: "\t").map(String.init) }
        #expect(all.allSatisfy { $0.count == 4 && $0[0] == "calib-1" })
        // the request's fault and client port sit beside its arrival line
        let meta = all.filter { $0[3].hasPrefix("fault:") || $0[3].hasPrefix("remote_port:") }
        #expect(meta.map { $0[1] } == ["-1", "-1"])
        #expect(meta.first?[3] == "fault:none")
        #expect(meta.last.flatMap { Int($0[3].dropFirst("remote_port:".count)) }.map { $0 > 0 } == true)
        let rows = all.filter { !($0[3].hasPrefix("fault:") || $0[3].hasPrefix("remote_port:")) }
        #expect(
            rows.map { $0[3] } == [
                "accept", "arrival", "role", "first_token", "token", "token", "token", "finish", "usage", "done",
            ])
        // The connection's accept (index -2) comes first, on its first request.
        #expect(rows.map { $0[1] } == ["-2", "-1", "0", "1", "2", "3", "4", "5", "6", "7"])
        let times = rows.compactMap { UInt64($0[2]) }
        #expect(times.count == rows.count)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        // first token no earlier than the configured TTFT after arrival, tokens at least ITL apart (generous upper bound)
        // (times[0] is the connection's accept, times[1] the arrival, times[3] the first token)
        #expect(times[3] - times[1] >= 30_000_000)
        #expect(times[3] - times[1] < 3_000_000_000)
        #expect(times[6] - times[1] >= 45_000_000)
    }
}
