import CCurl
import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfClient

/// What the client records for each fault an endpoint can throw (README, "What is measured",
/// the failure table), against the scripted server and at the decoder level. Every timing
/// assertion is a lower bound set by the server's own sleeps, so a busy machine cannot break it.
@Suite struct FaultDecodingTests {
    let loop = CurlMultiLoop()

    private func perform(_ url: String, timeouts: Timeouts = Timeouts(), streaming: Bool = true) async
        -> RequestTrace
    {
        await loop.perform(
            TestTransport.request(TestTransport.config(url, timeouts: timeouts, streaming: streaming)))
    }

    private static func contentChunk(_ content: String) -> String { Scripts.chatChunk(content) }

    // MARK: HTTP errors: the status decides, the first KiB of the body is kept

    @Test func htmlErrorPageIsHTTPStatusNeverDecode() async throws {
        let page =
            "<html><body><h1>503 Service Unavailable</h1>" + String(repeating: "x", count: 3000) + "</body></html>"
        let server = try ScriptedServer { _ in
            [
                .head(
                    status: 503, contentType: "text/html", chunked: false, extra: ["Content-Length: \(page.utf8.count)"]
                ),
                .raw(page),
            ]
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome.failureKind == .http(status: 503))
        #expect(trace.httpStatus == 503)
        #expect(trace.outcome.detail.hasPrefix("<html><body><h1>503"))
        #expect(trace.outcome.detail.utf8.count == CurlTransfer.errorBodyCapBytes)
        #expect(trace.chunkAtNanos.isEmpty)
    }

    @Test func rateLimitKeepsRetryAfterAndTheBody() async throws {
        let body = #"{"error":{"message":"slow down","type":"rate_limit_exceeded","code":"rate_limit_exceeded"}}"#
        let server = try ScriptedServer { _ in
            [
                .head(
                    status: 429, contentType: "application/json", chunked: false,
                    extra: ["Retry-After: 1", "Content-Length: \(body.utf8.count)"]),
                .raw(body),
            ]
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome.failureKind == .http(status: 429))
        #expect(trace.outcome.detail == "Retry-After: 1; " + body)
    }

    // MARK: resets and timeouts keep what arrived; an abandoned connection is not reused

    @Test func resetMidStreamIsStreamCutKeepingTokensAndTTFT() async throws {
        let server = try ScriptedServer { _ in
            [
                .head(status: 200), .send(Scripts.roleChunk), .send(Self.contentChunk("a")),
                .send(Self.contentChunk("b")), .send(Self.contentChunk("c")), .cut,
            ]
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome.failureKind == .streamCut, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.count == 3)
        #expect(trace.outputText == "abc")
        #expect(Metric.ttft.value(of: trace) != nil)
    }

    @Test func stallBeforeTheFirstTokenIsFirstTokenTimeoutAndTheConnectionIsNotReused() async throws {
        let server = try ScriptedServer { request in
            request.sequenceOnConnection == 0 && request.connection == 0
                ? [.head(status: 200), .send(Scripts.roleChunk), .stall] : Scripts.chatStream(tokens: 2)
        }
        defer { server.stop() }
        let first = await perform(server.url, timeouts: Timeouts(firstToken: .milliseconds(300)))
        #expect(first.outcome.failureKind == .timeout(.firstToken), "\(first.outcome)")
        #expect(first.chunkAtNanos.isEmpty)
        #expect(Metric.ttft.value(of: first) == nil)
        // The next request opens a new connection: the abandoned one is never handed on.
        let second = await perform(server.url)
        #expect(second.outcome == .ok, "\(second.outcome)")
        #expect(!second.connection.reused)
        let requests = server.receivedRequests
        #expect(requests.count == 2)
        #expect(requests.last?.connection == 1 && requests.last?.sequenceOnConnection == 0)
    }

    @Test func stallMidStreamIsIdleTimeoutKeepingTokensAndTTFT() async throws {
        let server = try ScriptedServer { request in
            request.connection == 0
                ? [
                    .head(status: 200), .send(Scripts.roleChunk), .send(Self.contentChunk("a")),
                    .send(Self.contentChunk("b")), .stall,
                ] : Scripts.chatStream(tokens: 2)
        }
        defer { server.stop() }
        let first = await perform(server.url, timeouts: Timeouts(firstToken: .seconds(30), idle: .milliseconds(300)))
        #expect(first.outcome.failureKind == .timeout(.idle), "\(first.outcome)")
        #expect(first.chunkAtNanos.count == 2)
        #expect(Metric.ttft.value(of: first) != nil)
        let second = await perform(server.url)
        #expect(second.outcome == .ok)
        #expect(server.receivedRequests.last?.connection == 1)
    }

    // MARK: malformed events

    @Test func malformedEventIsADecodeFailureNotAToken() async throws {
        let server = try ScriptedServer { request in
            request.connection == 0
                ? [
                    .head(status: 200), .send(Scripts.roleChunk), .send(Self.contentChunk("a")),
                    .send(Self.contentChunk("b")), .send("data: {\"choices\":[{\"delta\":{\"content\":\"c\n\n"),
                    .send(Self.contentChunk("d")), .send(Scripts.finishChunk), .send("data: [DONE]\n\n"), .finish,
                ] : Scripts.chatStream(tokens: 1)
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome.failureKind == .decode)
        #expect(trace.outcome.detail.hasPrefix("malformed stream event after 2 content events"))
        #expect(trace.chunkAtNanos.count == 2)
        #expect(trace.outputText == "ab")
        // The rest of that body was never read: its connection is not reused.
        let next = await perform(server.url)
        #expect(next.outcome == .ok)
        #expect(server.receivedRequests.last?.connection == 1)
    }

    // MARK: framing: content type, clean end, drip, pings, empty choices

    @Test func sseLabelledJSONIsStillAStream() async throws {
        let server = try ScriptedServer { _ in
            var steps = Scripts.chatStream(tokens: 3)
            steps[0] = .head(status: 200, contentType: "application/json")
            return steps
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome == .ok, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.count == 3)
        #expect(trace.outputText == "t0 t1 t2 ")
    }

    @Test func jsonBodyLabelledEventStreamIsOneBody() async throws {
        let body =
            #"{"choices":[{"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#
        let server = try ScriptedServer { _ in
            [.head(status: 200, chunked: false, extra: ["Content-Length: \(body.utf8.count)"]), .raw(body)]
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome == .ok, "\(trace.outcome)")
        #expect(trace.outputText == "whole")
        #expect(trace.chunkTokens == [2])
    }

    /// A 200 answer that is neither JSON nor SSE (a proxy's HTML page, plain text) is `decode`
    /// with its first bytes, never `stream_cut` or `ok`.
    @Test(arguments: ["<html><body>Please log in</body></html>", "Internal error, try later\n"])
    func successStatusWithABodyThatIsNoStreamIsDecode(page: String) async throws {
        let server = try ScriptedServer { _ in
            [
                .head(
                    status: 200, contentType: "text/html", chunked: false, extra: ["Content-Length: \(page.utf8.count)"]
                ),
                .raw(page),
            ]
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome.failureKind == .decode, "\(trace.outcome)")
        #expect(trace.outcome.detail.contains(page.prefix(20)), "\(trace.outcome.detail)")
    }

    @Test func cleanEndWithFinishButNoDoneDoesNotWait() async throws {
        let server = try ScriptedServer { _ in
            [
                .head(status: 200), .send(Scripts.roleChunk), .send(Self.contentChunk("a")),
                .send(Scripts.finishChunk), .send(Scripts.usageChunk(prompt: 1, completion: 1)), .finish,
                // The connection stays open: only the chunked terminator says the body ended.
                .sleep(milliseconds: 5_000),
            ]
        }
        defer { server.stop() }
        // An idle limit far below the server's pause: waiting for [DONE] would time out.
        let trace = await perform(server.url, timeouts: Timeouts(idle: .milliseconds(1_000)))
        #expect(trace.outcome == .ok, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.count == 1)
    }

    @Test func firstTokenIsTheFirstCompleteContentEventNotAByteAPingOrEmptyChoices() async throws {
        let content = Self.contentChunk("a")
        let half = content.index(content.startIndex, offsetBy: content.count / 2)
        let server = try ScriptedServer { _ in
            [
                .head(status: 200), .send(Scripts.roleChunk), .sleep(milliseconds: 150), .send(": ping\n\n"),
                .sleep(milliseconds: 150), .send("data: {\"choices\":[]}\n\n"), .sleep(milliseconds: 150),
                .send(String(content[..<half])), .sleep(milliseconds: 150), .send(String(content[half...])),
                .send(Scripts.finishChunk), .send("data: [DONE]\n\n"), .finish,
            ]
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome == .ok, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.count == 1)
        let firstByte = try #require(trace.firstByteNanos)
        let ttft = try #require(trace.chunkAtNanos.first) - trace.startedAtNanos
        // Four server pauses of 150 ms lie between the response head and the end of the event
        // (lower bounds: a slow machine only adds). libcurl's first-byte time counts from its
        // own start, a little after ours: 100 ms of margin for that.
        #expect(ttft >= 600_000_000, "ttft \(ttft)")
        #expect(ttft >= firstByte + 500_000_000, "ttft \(ttft) first byte \(firstByte)")
    }

    @Test func crlfStreamParses() async throws {
        let server = try ScriptedServer { _ in
            Scripts.chatStream(tokens: 3).map { step in
                if case .send(let text) = step { return .send(text.replacingOccurrences(of: "\n", with: "\r\n")) }
                return step
            }
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome == .ok, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.count == 3)
    }

    // MARK: several tokens per content event

    /// 4 tokens per event, events 40 ms apart, usage reporting the true count: every chunk
    /// carries 4 tokens and each ITL sample is the event gap divided by 4 (about 10 ms).
    @Test func usageLargerThanEventsSpreadsTokensAndDividesITL() async throws {
        let events = 6
        let server = try ScriptedServer { _ in
            var steps: [ScriptStep] = [.head(status: 200), .send(Scripts.roleChunk)]
            for i in 0..<events {
                steps.append(.sleep(milliseconds: 40))
                steps.append(.send(Self.contentChunk("w\(i)a w\(i)b w\(i)c w\(i)d ")))
            }
            steps += [
                .send(Scripts.finishChunk), .send(Scripts.usageChunk(prompt: 5, completion: events * 4)),
                .send("data: [DONE]\n\n"), .finish,
            ]
            return steps
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome == .ok)
        #expect(trace.chunkTokens == Array(repeating: 4, count: events))
        #expect(trace.outputTokens == events * 4)
        let gaps = zip(trace.chunkAtNanos.dropFirst(), trace.chunkAtNanos).map { Double($0 - $1) / 1_000_000 }
        let itl = Metric.itl.samples(of: trace)
        #expect(itl.count == events - 1)
        for (sample, gap) in zip(itl, gaps) { #expect(abs(sample - gap / 4) < 1e-9) }
    }

    @Test func apportionRule() {
        // k per event, the last holds the rest.
        #expect(ResponseAccumulator.apportion(tokens: 40, over: 10) == Array(repeating: 4, count: 10))
        #expect(ResponseAccumulator.apportion(tokens: 42, over: 11) == Array(repeating: 4, count: 10) + [2])
        // Otherwise as even as integers allow, summing to the usage.
        let spread = ResponseAccumulator.apportion(tokens: 15, over: 10)
        #expect(spread.reduce(0) { $0 + Int($1) } == 15)
        #expect(spread.allSatisfy { $0 == 1 || $0 == 2 })
        let odd = ResponseAccumulator.apportion(tokens: 47, over: 11)
        #expect(odd.reduce(0) { $0 + Int($1) } == 47 && odd.allSatisfy { $0 == 4 || $0 == 5 })
    }

    @Test func noUsageOrNoSurplusKeepsOneTokenPerEvent() {
        var r = ResponseAccumulator()
        Self.feed(&r, Self.contentChunk("a") + Self.contentChunk("b") + "data: [DONE]\n\n")
        r.apportionUsageOverChunks()
        #expect(r.chunkTokens == [1, 1])
        Self.feed(&r, Scripts.usageChunk(prompt: 1, completion: 2))
        r.apportionUsageOverChunks()
        #expect(r.chunkTokens == [1, 1])
    }

    // MARK: decoder level: invalid UTF-8, a 4 MiB event, an endless line

    private static func feed(_ r: inout ResponseAccumulator, _ text: String) {
        feed(&r, Array(text.utf8))
    }

    private static func feed(_ r: inout ResponseAccumulator, _ bytes: [UInt8], parser: inout SSEParser) {
        let dialect = OpenAIChatDialect()
        bytes.withUnsafeBytes { raw in
            parser.feed(raw) { event in dialect.decodeStreamEvent(name: event.name, data: event.data, into: &r) }
        }
    }

    private static func feed(_ r: inout ResponseAccumulator, _ bytes: [UInt8]) {
        var parser = SSEParser()
        feed(&r, bytes, parser: &parser)
    }

    @Test func invalidUTF8InContentIsRecordedWithoutCrashing() {
        var r = ResponseAccumulator()
        let event =
            Array("data: {\"choices\":[{\"delta\":{\"content\":\"a".utf8) + [0xFF, 0xFE] + Array("b\"}}]}\n\n".utf8)
        Self.feed(&r, event + Array(Self.contentChunk("c").utf8))
        #expect(r.failureKind == nil)
        #expect(r.chunkTokens == [1, 1])
        #expect(r.outputText == "a\u{FFFD}\u{FFFD}bc")
    }

    @Test func fourMiBEventIsOneChunkWithTextCapped() {
        var r = ResponseAccumulator()
        let big = String(repeating: "x", count: 4 << 20)
        var parser = SSEParser()
        Self.feed(&r, Array(Self.contentChunk(big).utf8) + Array(Self.contentChunk("y").utf8), parser: &parser)
        #expect(r.failureKind == nil)
        #expect(r.chunkTokens == [1, 1])
        #expect(r.text.count == ResponseAccumulator.textCapBytes)
        #expect(r.scratch.capacity < 64 << 10)
    }

    @Test func lineLongerThanTheCapStopsTheParser() {
        var parser = SSEParser(maxEventBytes: 1024)
        var events = 0
        let line = Array("data: ".utf8) + [UInt8](repeating: 0x61, count: 600)
        for _ in 0..<2 {
            line.withUnsafeBytes { raw in parser.feed(raw) { _ in events += 1 } }
        }
        let overflowed = parser.overflowed
        #expect(overflowed)
        Array("\n\n".utf8).withUnsafeBytes { raw in parser.feed(raw) { _ in events += 1 } }
        #expect(events == 0)
    }

    @Test func oversizedEventFailsTheRequestAsDecode() async throws {
        let big = String(repeating: "x", count: SSEParser.defaultMaxEventBytes + 1)
        let server = try ScriptedServer { _ in
            [
                .head(status: 200), .send(Scripts.roleChunk), .send(Self.contentChunk("a")),
                .send(Self.contentChunk(big)),
            ]
        }
        defer { server.stop() }
        let trace = await perform(server.url)
        #expect(trace.outcome.failureKind == .decode, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.count == 1)
    }

    // MARK: libcurl results

    @Test func failedTimingReadIsUnknownNotReused() {
        let values: [CURLINFO: curl_off_t] = [
            CURLINFO_NAMELOOKUP_TIME_T: 0, CURLINFO_CONNECT_TIME_T: 0, CURLINFO_APPCONNECT_TIME_T: 0,
            CURLINFO_PRETRANSFER_TIME_T: 120, CURLINFO_STARTTRANSFER_TIME_T: 900,
        ]
        let reused = CurlTransfer.connectionTiming(read: { values[$0] }, connects: 0)
        #expect(reused.known && reused.reused && reused.sent == 120_000)
        // The connect count could not be read: unknown, not "reused".
        let noCount = CurlTransfer.connectionTiming(read: { values[$0] }, connects: nil)
        #expect(!noCount.known && !noCount.reused)
        // A phase could not be read.
        let noPhase = CurlTransfer.connectionTiming(
            read: { $0 == CURLINFO_CONNECT_TIME_T ? nil : values[$0] }, connects: 1)
        #expect(!noPhase.known && !noPhase.reused && noPhase.connect == 0)
        let trace = RequestTrace(index: 0, startedAtNanos: 0, endedAtNanos: 1, timingKnown: false)
        #expect(Metric.dns.value(of: trace) == nil && Metric.tcp.value(of: trace) == nil)
        #expect(Metric.tls.value(of: trace) == nil && Metric.ttfb.value(of: trace) == nil)
    }

    @Test func refusedOptionFailsTheRequestBeforeAnythingIsSent() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 1) }
        defer { server.stop() }
        // libcurl refuses strings longer than 8,000,000 bytes (CURL_MAX_INPUT_LENGTH).
        let url = server.url + "?q=" + String(repeating: "a", count: 8_000_001)
        let trace = await perform(url)
        #expect(trace.outcome.failureKind == .transport)
        #expect(trace.outcome.detail.hasPrefix("libcurl refused CURLOPT_URL"), "\(trace.outcome.detail)")
        #expect(!trace.timingKnown)
        #expect(server.requestCount == 0 && server.connectionCount == 0)
    }

    @Test func http2IsAvailableInThisLibcurl() {
        // The build machine's libcurl has nghttp2 and TLS; the check must not refuse it.
        #expect(CurlFeatures.http2Missing(secure: true) == nil)
        #expect(CurlFeatures.http2Missing(secure: false) == nil)
    }

    @Test func missingHTTP2IsSaidNotWorkedAround() {
        let none = CurlFeatures.http2Missing(secure: false, features: 0, version: "7.0")
        #expect(none == "the scenario asks for http: 2 but libcurl 7.0 was built without HTTP/2 support")
        let noTLS = CurlFeatures.http2Missing(secure: true, features: 1 << 16, version: "7.0")
        #expect(noTLS?.contains("without TLS") == true)
        #expect(CurlFeatures.http2Missing(secure: false, features: 1 << 16, version: "7.0") == nil)
        #expect(CurlFeatures.http2Missing(secure: true, features: 1 << 16 | 1 << 2, version: "7.0") == nil)
    }

    @Test func cancelledTransferDoesNotHandItsConnectionOn() async throws {
        let server = try ScriptedServer { request in
            request.connection == 0
                ? [.head(status: 200), .send(Scripts.roleChunk), .send(Self.contentChunk("a")), .stall]
                : Scripts.chatStream(tokens: 1)
        }
        defer { server.stop() }
        let handle = loop.submit(TestTransport.request(TestTransport.config(server.url))) { _ in }
        // Cancel once the first token is on the wire (the server has read the request).
        let deadline = ContinuousClock.now + .seconds(30)
        while server.requestCount == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        loop.cancel(handle)
        let next = await perform(server.url)
        #expect(next.outcome == .ok, "\(next.outcome)")
        #expect(server.receivedRequests.last?.connection == 1)
    }
}
