import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfClient

/// The socket-action loop: where a request's start comes from, a cold burst on fresh
/// connections, and submissions from many threads at once (no wake-up lost).
@Suite struct CurlLoopTests {
    /// The start is libcurl's own: the pre-request stamp less libcurl's time up to it, never
    /// before the transfer was handed over, and the hand-over stamp when nothing was written.
    @Test func requestStartIsLibcurlsStart() {
        // Written at 1,000,000 after 300,000 of connection setup: started at 700,000.
        #expect(
            CurlTransfer.requestStart(loopStamp: 600_000, preRequestAt: 1_000_000, pretransferNanos: 300_000) == 700_000
        )
        // A reused connection: written 2,000 after libcurl took it up.
        #expect(
            CurlTransfer.requestStart(loopStamp: 600_000, preRequestAt: 1_000_000, pretransferNanos: 2_000) == 998_000)
        // Never before it was handed over (libcurl's clock and ours differ by a few µs).
        #expect(
            CurlTransfer.requestStart(loopStamp: 900_000, preRequestAt: 1_000_000, pretransferNanos: 300_000) == 900_000
        )
        // Nothing written (a connect failure) or timing unknown: the hand-over stamp.
        #expect(CurlTransfer.requestStart(loopStamp: 600_000, preRequestAt: 0, pretransferNanos: 0) == 600_000)
        #expect(CurlTransfer.requestStart(loopStamp: 600_000, preRequestAt: 0, pretransferNanos: 50_000) == 600_000)
        // A pretransfer time longer than the clock itself is not believed.
        #expect(CurlTransfer.requestStart(loopStamp: 5, preRequestAt: 10, pretransferNanos: 20) == 5)
    }

    /// 64 requests submitted at once to a fresh loop: each opens its own connection, every one
    /// is answered in full, and each start lies between its hand-over and the moment it was
    /// written, which precedes the server reading it.
    @Test func coldBurstOpensAConnectionEachAndSendsEveryRequest() async throws {
        let burst = 64
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 3) }
        defer { server.stop() }
        let loop = CurlMultiLoop(maxConnections: 2 * burst)
        defer { loop.shutdown() }
        let config = TestTransport.config(server.url)
        let base = TestTransport.request(config)
        let traces = await withTaskGroup(of: (Int, UInt64, RequestTrace).self) { group in
            for i in 0..<burst {
                group.addTask {
                    let request = TransportRequest(
                        config: config, body: base.body, index: i, extraHeaderLines: ["x-request-id: burst-\(i)"])
                    let handedOver = MonotonicClock.nanos()
                    return (i, handedOver, await loop.perform(request))
                }
            }
            var all: [(Int, UInt64, RequestTrace)] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(traces.count == burst)
        #expect(server.connectionCount == burst)
        var arrivals: [String: UInt64] = [:]
        for (request, at) in zip(server.receivedRequests, server.arrivalNanos) {
            arrivals[request.headers["x-request-id"] ?? ""] = at
        }
        for (i, handedOver, trace) in traces {
            #expect(trace.outcome == .ok, "\(i): \(trace.outcome)")
            #expect(trace.chunkAtNanos.count == 3)
            #expect(!trace.connection.reused, "\(i)")
            let start = config.originNanos + trace.startedAtNanos
            #expect(start >= handedOver, "\(i): started before it was handed over")
            let arrival = try #require(arrivals["burst-\(i)"])
            #expect(start + trace.sentNanos <= arrival, "\(i): written after the server read it")
            #expect(trace.sentNanos >= trace.connectNanos && trace.connectNanos > 0, "\(i)")
        }
    }

    /// Eight threads submitting 40 requests each, as fast as they can, while others complete:
    /// every request is answered, exactly once (the inbox is shared by every submitting thread
    /// and the loop).
    @Test func submissionsFromManyThreadsAllComplete() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 2) }
        defer { server.stop() }
        let loop = CurlMultiLoop()
        defer { loop.shutdown() }
        let request = TestTransport.request(TestTransport.config(server.url))
        let done = DispatchSemaphore(value: 0)
        let ok = LockedCounter()
        let threads = 8
        let perThread = 40
        for _ in 0..<threads {
            Thread {
                for _ in 0..<perThread {
                    loop.submit(request) { trace in
                        if trace.outcome == .ok { ok.increment() }
                        done.signal()
                    }
                }
            }.start()
        }
        var finished = 0
        while finished < threads * perThread, done.wait(timeout: .now() + 60) == .success { finished += 1 }
        #expect(finished == threads * perThread)
        #expect(ok.value == threads * perThread)
    }
}
