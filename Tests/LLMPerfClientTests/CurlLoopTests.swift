import Foundation
import LLMPerfCore
import Synchronization
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

    /// libcurl's phases count from its own start; when the start is the hand-over and libcurl's time to the write
    /// would put it after the pre-request stamp, the write and the first byte move back to the stamp (the
    /// connection's own phases stay).
    @Test func phasesPutTheWriteAtThePreRequestStamp() {
        let timing = CurlTransfer.ConnectionTiming(dns: 0, connect: 0, tls: 0, sent: 300_000, firstByte: 800_000)
        let start = CurlTransfer.requestStart(loopStamp: 900_000, preRequestAt: 1_000_000, pretransferNanos: 300_000)
        let aligned = timing.aligned(start: start, preRequestAt: 1_000_000)
        #expect(start + aligned.sent == 1_000_000)
        #expect(aligned == CurlTransfer.ConnectionTiming(dns: 0, connect: 0, tls: 0, sent: 100_000, firstByte: 600_000))
        // A new connection: its own phases stay, and the write moves back but never before them.
        let fresh = CurlTransfer.ConnectionTiming(
            dns: 50_000, connect: 250_000, tls: 0, sent: 280_000, firstByte: 900_000)
        #expect(
            fresh.aligned(start: 900_000, preRequestAt: 1_000_000)
                == CurlTransfer.ConnectionTiming(
                    dns: 50_000, connect: 250_000, tls: 0, sent: 250_000, firstByte: 720_000))
        // libcurl's start after the hand-over: nothing to align; unknown timing is left alone.
        #expect(timing.aligned(start: 700_000, preRequestAt: 1_000_000) == timing)
        var unknown = timing
        unknown.known = false
        #expect(unknown.aligned(start: 900_000, preRequestAt: 1_000_000) == unknown)
    }

    /// 64 requests submitted at once to a fresh loop: each opens its own connection, every one
    /// is answered in full, and each start lies between its hand-over and the moment it was
    /// written, which precedes the server reading it.
    @Test func coldBurstOpensAConnectionEachAndSendsEveryRequest() async throws {
        let burst = 64
        // Every answer waits until all 64 requests have arrived (at most 30 s): on a busy machine a task of the
        // group can start after the first answers ended, and would then reuse their connection.
        let allArrived = ArrivalBarrier(count: burst)
        let server = try ScriptedServer { _ in
            allArrived.arrive()
            return Scripts.chatStream(tokens: 3)
        }
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

    /// A request submitted while other streams have data waiting is written before the loop
    /// reads that data. The loop thread is held (inside one request's completion) while the
    /// server finishes a "trigger" stream and then writes a burst on eight open streams, so one
    /// wake-up of the loop finds all nine sockets readable, the trigger's first. The trigger's
    /// completion submits a probe; the probe's request must be on the wire before the first
    /// chunk of any burst is read (the loop takes new requests between two ready sockets).
    @Test func newRequestIsWrittenBeforeOtherStreamsPendingReads() async throws {
        let held = 8
        let releaseTrigger = DispatchSemaphore(value: 0)
        let triggerWritten = DispatchSemaphore(value: 0)
        let releaseBursts = DispatchSemaphore(value: 0)
        let burstWritten = DispatchSemaphore(value: 0)
        let opened = DispatchSemaphore(value: 0)
        let server = try ScriptedServer { request in
            let id = request.headers["x-request-id"] ?? ""
            let opening: [ScriptStep] = [
                .head(status: 200), .send(Scripts.roleChunk), .send(Scripts.chatChunk("a")), .call { opened.signal() },
            ]
            let ending: [ScriptStep] = [.send(Scripts.finishChunk), .send("data: [DONE]\n\n"), .finish]
            if id.hasPrefix("held") {
                let burst = (0..<16).map { ScriptStep.send(Scripts.chatChunk("b\($0)")) }
                return opening + [.call { releaseBursts.wait() }] + burst + [.call { burstWritten.signal() }] + ending
            }
            if id == "trigger" {
                return opening + [.call { releaseTrigger.wait() }] + ending + [.call { triggerWritten.signal() }]
            }
            return Scripts.chatStream(tokens: 1)
        }
        defer {
            for _ in 0..<held { releaseBursts.signal() }
            releaseTrigger.signal()
            server.stop()
        }
        let loop = CurlMultiLoop(maxConnections: 64)
        defer { loop.shutdown() }
        let config = TestTransport.config(server.url)
        let body = TestTransport.request(config).body
        @Sendable func request(_ id: String, _ index: Int) -> TransportRequest {
            TransportRequest(config: config, body: body, index: index, extraHeaderLines: ["x-request-id: \(id)"])
        }
        let done = DispatchSemaphore(value: 0)
        let traces = Mutex<[String: RequestTrace]>([:])
        @Sendable func keep(_ id: String) -> @Sendable (RequestTrace) -> Void {
            { trace in
                traces.withLock { $0[id] = trace }
                done.signal()
            }
        }
        for i in 0..<held { loop.submit(request("held-\(i)", i), completion: keep("held-\(i)")) }
        // The trigger's completion runs on the loop thread and submits the probe from there.
        loop.submit(request("trigger", held)) { trace in
            loop.submit(request("probe", held + 2), completion: keep("probe"))
            keep("trigger")(trace)
        }
        // Wait (bounded) until the server has opened all nine streams, then run one whole
        // request, so that every later wake-up of the loop has read those openings already.
        for _ in 0...held { try #require(opened.wait(timeout: .now() + 30) == .success) }
        let flushed = DispatchSemaphore(value: 0)
        loop.submit(request("flush", held + 3)) { _ in flushed.signal() }
        try #require(flushed.wait(timeout: .now() + 30) == .success)
        // The pause: this completion runs on the loop thread and holds it while the trigger
        // stream ends and then the bursts are written.
        loop.submit(request("pause", held + 1)) { trace in
            releaseTrigger.signal()
            triggerWritten.wait()
            for _ in 0..<held { releaseBursts.signal() }
            for _ in 0..<held { burstWritten.wait() }
            keep("pause")(trace)
        }
        var finished = 0
        while finished < held + 3, done.wait(timeout: .now() + 30) == .success { finished += 1 }
        try #require(finished == held + 3)
        let all = traces.withLock { $0 }
        let probe = try #require(all["probe"])
        #expect(probe.outcome == .ok)
        #expect(probe.connection.reused, "the probe takes the trigger's connection, so it is written at once")
        let written = probe.startedAtNanos + probe.sentNanos
        for i in 0..<held {
            let trace = try #require(all["held-\(i)"])
            #expect(trace.outcome == .ok, "held-\(i): \(trace.outcome)")
            try #require(trace.chunkAtNanos.count == 17)
            #expect(
                written < trace.chunkAtNanos[1],
                "held-\(i): its burst was read \(Int64(trace.chunkAtNanos[1]) - Int64(written)) ns before the probe was written"
            )
        }
    }
}

/// Holds each caller until `count` have called, or 30 s have passed.
final class ArrivalBarrier: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private var arrived = 0

    init(count: Int) { self.count = count }

    func arrive() {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(30)
        while arrived < count && condition.wait(until: deadline) {}
    }
}
