import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct CurlTransportTests {
    let loop = CurlMultiLoop()

    @Test func streamRecordsChunksWithTheirTimes() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 5, gapMs: 20) }
        defer { server.stop() }
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url)))
        #expect(trace.outcome == .ok)
        #expect(trace.httpStatus == 200)
        #expect(trace.chunkAtNanos.count == 5)
        #expect(trace.chunkTokens == [1, 1, 1, 1, 1])
        #expect(trace.usage?.completionTokens == 5)
        #expect(trace.outputText == "t0 t1 t2 t3 t4 ")
        #expect(trace.connection.httpVersion == "1.1")
        #expect(trace.connection.remoteAddress == "127.0.0.1:\(server.port)")
        // The server sleeps 20 ms before each token, so token i cannot have arrived before
        // (i + 1) × 20 ms after the request started: a stamp taken too early (at the first byte,
        // or at the start) breaks this, and no load on the machine can (it only delays arrivals).
        for (i, at) in trace.chunkAtNanos.enumerated() {
            #expect(at >= trace.startedAtNanos + UInt64(i + 1) * 20_000_000, "token \(i): \(trace.chunkAtNanos)")
        }
        // In arrival order, each one stamped on its own.
        #expect(zip(trace.chunkAtNanos.dropFirst(), trace.chunkAtNanos).allSatisfy { $0 >= $1 })
        #expect(trace.endedAtNanos >= trace.chunkAtNanos.last!)
        let firstByte = try #require(trace.firstByteNanos)
        #expect(firstByte >= trace.sentNanos && trace.sentNanos >= trace.connectNanos)
    }

    @Test func requestCarriesBodyAndHeaders() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 1) }
        defer { server.stop() }
        let config = TestTransport.config(
            server.url,
            headers: [HeaderSpec(name: "Authorization", value: "Bearer k", template: "Bearer ${K}", isSecret: true)])
        _ = await loop.perform(TestTransport.request(config))
        let request = try #require(server.receivedRequests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/v1/chat/completions")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["accept"] == "text/event-stream")
        #expect(request.headers["authorization"] == "Bearer k")
        #expect(request.headers["expect"] == nil)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["model"] as? String == "test-model")
        #expect(body["stream"] as? Bool == true)
    }

    @Test func reusedConnectionHasNoConnectTime() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 2) }
        defer { server.stop() }
        let config = TestTransport.config(server.url, connection: .reuse)
        let a = await loop.perform(TestTransport.request(config))
        let b = await loop.perform(TestTransport.request(config, index: 1))
        #expect(a.outcome == .ok && b.outcome == .ok)
        #expect(!a.connection.reused && a.connectNanos > 0)
        #expect(b.connection.reused && b.connectNanos == 0 && b.dnsNanos == 0)
        #expect(server.connectionCount == 1)
    }

    @Test func newConnectionEveryRequestMeasuresConnect() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 2) }
        defer { server.stop() }
        let config = TestTransport.config(server.url, connection: .new)
        for i in 0..<3 {
            let t = await loop.perform(TestTransport.request(config, index: i))
            #expect(t.outcome == .ok)
            #expect(!t.connection.reused && t.connectNanos > 0)
        }
        #expect(server.connectionCount == 3)
    }

    @Test func nonStreamingBodyIsOneChunk() async throws {
        let body =
            #"{"choices":[{"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#
        let server = try ScriptedServer { _ in
            [
                .head(
                    status: 200, contentType: "application/json", chunked: false,
                    extra: ["Content-Length: \(body.utf8.count)"]), .raw(body),
            ]
        }
        defer { server.stop() }
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url, streaming: false)))
        #expect(trace.outcome == .ok)
        #expect(trace.chunkTokens == [2])
        #expect(trace.outputText == "Hello there")
        #expect(server.receivedRequests.first?.headers["accept"] == "application/json")
    }

    @Test func connectionRefused() async throws {
        let port = try TestTransport.closedPort()
        let trace = await loop.perform(
            TestTransport.request(TestTransport.config("http://127.0.0.1:\(port)/v1/chat/completions")))
        #expect(trace.outcome.failureKind == .connect)
        #expect(trace.httpStatus == 0)
    }

    @Test(arguments: [404, 500])
    func httpErrorKeepsStatusAndBody(status: Int) async throws {
        let server = try ScriptedServer { _ in
            let text = "{\"error\":{\"message\":\"model not found\"}}"
            return [
                .head(
                    status: status, contentType: "application/json", chunked: false,
                    extra: ["Content-Length: \(text.utf8.count)"]),
                .raw(text),
            ]
        }
        defer { server.stop() }
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url)))
        #expect(trace.outcome.failureKind == .http(status: status))
        #expect(trace.outcome.detail.contains("model not found"))
        #expect(trace.httpStatus == status)
    }

    @Test func streamCutKeepsTokens() async throws {
        let server = try ScriptedServer { _ in
            [
                .head(status: 200), .send(Scripts.roleChunk), .send(Scripts.chatChunk("a")),
                .send(Scripts.chatChunk("b")), .sleep(milliseconds: 5), .cut,
            ]
        }
        defer { server.stop() }
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url)))
        #expect(trace.outcome.failureKind == .streamCut)
        #expect(trace.chunkAtNanos.count == 2)
        #expect(trace.outputText == "ab")
    }

    @Test func cleanEndWithoutDoneIsAStreamCut() async throws {
        let server = try ScriptedServer { _ in [.head(status: 200), .send(Scripts.chatChunk("a")), .finish] }
        defer { server.stop() }
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url)))
        #expect(trace.outcome.failureKind == .streamCut)
        #expect(trace.chunkAtNanos.count == 1)
    }

    @Test func malformedEventIsDecodeFailure() async throws {
        let server = try ScriptedServer { _ in
            [.head(status: 200), .send(Scripts.chatChunk("a")), .send("data: {\"choices\":[{\"delta\":\n\n"), .stall]
        }
        defer { server.stop() }
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url)))
        #expect(trace.outcome.failureKind == .decode)
        #expect(trace.chunkAtNanos.count == 1)
    }

    @Test func firstTokenTimeout() async throws {
        let server = try ScriptedServer { _ in [.head(status: 200), .send(Scripts.roleChunk), .stall] }
        defer { server.stop() }
        let timeouts = Timeouts(firstToken: .milliseconds(150), idle: .milliseconds(50), total: .seconds(10))
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url, timeouts: timeouts)))
        #expect(trace.outcome.failureKind == .timeout(.firstToken), "\(trace.outcome)")
        // The limit counts from when the loop took the request; `startedAt` is stamped just before
        // the request is written, after the connect, so a little less than 150 ms may separate them.
        #expect(trace.endedAtNanos - trace.startedAtNanos >= 100_000_000)
    }

    @Test func idleTimeoutKeepsTokens() async throws {
        let server = try ScriptedServer { _ in
            [.head(status: 200), .send(Scripts.chatChunk("a")), .send(Scripts.chatChunk("b")), .stall]
        }
        defer { server.stop() }
        let timeouts = Timeouts(firstToken: .seconds(5), idle: .milliseconds(150), total: .seconds(10))
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url, timeouts: timeouts)))
        #expect(trace.outcome.failureKind == .timeout(.idle))
        #expect(trace.chunkAtNanos.count == 2)
        #expect(trace.endedAtNanos - trace.chunkAtNanos.last! >= 150_000_000)
    }

    @Test func totalTimeout() async throws {
        let server = try ScriptedServer { _ in
            var steps: [ScriptStep] = [.head(status: 200)]
            for _ in 0..<100 {
                steps.append(.send(Scripts.chatChunk("x")))
                steps.append(.sleep(milliseconds: 20))
            }
            return steps
        }
        defer { server.stop() }
        let timeouts = Timeouts(idle: .seconds(5), total: .milliseconds(200))
        let trace = await loop.perform(TestTransport.request(TestTransport.config(server.url, timeouts: timeouts)))
        #expect(trace.outcome.failureKind == .timeout(.total))
        #expect(trace.chunkAtNanos.count >= 1)
    }

    @Test func connectTimeoutAgainstAFullAcceptQueue() async throws {
        // A listening socket that never accepts, its accept queue filled by two idle
        // connections: the kernel drops further SYNs, so the connect hangs (127.0.0.1 only).
        let (fd, port) = try ScriptedServer.listen(backlog: 0)
        defer { close(fd) }
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<3 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var flags = fcntl(s, F_GETFL)
            flags |= O_NONBLOCK
            _ = fcntl(s, F_SETFL, flags)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            fillers.append(s)
        }
        usleep(20_000)
        let timeouts = Timeouts(connect: .milliseconds(200), total: .seconds(5))
        let trace = await loop.perform(
            TestTransport.request(
                TestTransport.config("http://127.0.0.1:\(port)/v1/chat/completions", timeouts: timeouts)))
        #expect(trace.outcome.failureKind == .timeout(.connect))
    }

    @Test func tlsHandshakeFailure() async throws {
        let server = try ScriptedServer(rawOnConnect: "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        defer { server.stop() }
        let trace = await loop.perform(
            TestTransport.request(TestTransport.config("https://127.0.0.1:\(server.port)/v1/chat/completions")))
        #expect(trace.outcome.failureKind == .tls)
    }

    @Test func cancellingTheTaskKeepsWhatArrived() async throws {
        let server = try ScriptedServer { _ in [.head(status: 200), .send(Scripts.chatChunk("a")), .stall] }
        defer { server.stop() }
        let loop = self.loop
        let request = TestTransport.request(TestTransport.config(server.url))
        let task = Task { await loop.perform(request) }
        // Wait until the server saw the request (it then sends the token at once), then long
        // enough that even a loaded machine has read the token before the cancel.
        for _ in 0..<2000 where server.requestCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(server.requestCount == 1)
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        let trace = await task.value
        #expect(trace.outcome.failureKind == .cancelled)
        #expect(trace.chunkAtNanos.count == 1)
    }

    @Test func shutdownCancelsInFlight() async throws {
        let server = try ScriptedServer { _ in [.head(status: 200), .stall] }
        defer { server.stop() }
        let loop = CurlMultiLoop()
        let request = TestTransport.request(TestTransport.config(server.url))
        let task = Task { await loop.perform(request) }
        for _ in 0..<200 where server.requestCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        loop.shutdown()
        #expect(await task.value.outcome.failureKind == .cancelled)
        #expect(await loop.perform(request).outcome.failureKind == .cancelled)
    }
}
