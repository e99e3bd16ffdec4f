import Foundation
import Testing

@testable import InferenceServer

/// Every fault of `llmperf serve --fault`, observed at the byte level with a raw socket: status, headers, line
/// endings, comments, resets, chunk sizes. Timing is asserted only as lower bounds from the server's own trace.
@Suite("Fault mode on the wire")
struct FaultModeTests {
    static let after = 2
    static let stall = Duration.milliseconds(300)

    static func configuration(
        _ selection: FaultConfiguration.Selection = .every(.none), tracePath: String? = nil
    ) -> ServerConfiguration {
        var configuration = syntheticConfiguration(tokens: 8, tracePath: tracePath)
        configuration.faults = FaultConfiguration(
            selection: selection, after: after, stall: stall, drip: .zero, tokensPerEvent: 4)
        return configuration
    }

    /// A streamed chat request (with usage) asking for `fault` by header (none sent when nil).
    static func ask(
        _ port: Int, _ fault: String?, maxTokens: Int = 6, stream: Bool = true, requestID: String? = nil
    ) async throws -> RawSocketClient.Exchange {
        var headers: [String: String] = [:]
        if let fault { headers[ServerFault.headerName] = fault }
        if let requestID { headers["x-request-id"] = requestID }
        let json = chatBody(maxTokens: maxTokens, stream: stream, includeUsage: stream ? true : nil)
        return try await RawSocketClient.exchange(
            port: port, request: RawSocketClient.post("/v1/chat/completions", json: json, headers: headers))
    }

    static func response(_ exchange: RawSocketClient.Exchange) throws -> RawResponse {
        try #require(exchange.response, "no HTTP response in \(exchange.bytes.count) bytes, ended \(exchange.ending)")
    }

    static func errorCode(_ response: RawResponse) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return (object?["error"] as? [String: Any])?["code"] as? String
    }

    /// The trace lines of one request: (index, nanos, kind).
    static func traceRows(_ path: String, requestID: String) throws -> [(index: Int, nanos: UInt64, kind: String)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 4, fields[0] == requestID, let index = Int(fields[1]), let nanos = UInt64(fields[2])
            else { return nil }
            return (index, nanos, fields[3])
        }
    }

    @Test func httpErrorFaultsAnswerWithTheirStatusHeadersAndBodies() async throws {
        try await withServer(Self.configuration()) { server in
            let limited = try Self.response(try await Self.ask(server.port, "http_429"))
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "1")
            #expect(limited.headers["content-type"] == "application/json")
            #expect(Self.errorCode(limited) == "rate_limit_exceeded")

            let failed = try Self.response(try await Self.ask(server.port, "http_500"))
            #expect(failed.status == 500)
            #expect(failed.headers["content-type"] == "application/json")
            let object = try JSONSerialization.jsonObject(with: Data(failed.body)) as? [String: Any]
            #expect((object?["error"] as? [String: Any])?["type"] as? String == "server_error")

            let page = try Self.response(try await Self.ask(server.port, "http_503_html"))
            #expect(page.status == 503)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(String(decoding: page.body, as: UTF8.self).hasPrefix("<!DOCTYPE html>"))
            #expect((try? JSONSerialization.jsonObject(with: Data(page.body))) == nil)
        }
    }

    @Test func resetBeforeResponseSendsNoByteAndResets() async throws {
        try await withServer(Self.configuration()) { server in
            let exchange = try await Self.ask(server.port, "reset_before_response")
            #expect(exchange.bytes.isEmpty, "got \(exchange.text)")
            #expect(exchange.ending == .reset)
            // the server goes on serving
            #expect(try Self.response(try await Self.ask(server.port, nil)).status == 200)
        }
    }

    @Test func resetMidStreamResetsAfterTheConfiguredContentEvents() async throws {
        try await withServer(Self.configuration()) { server in
            let exchange = try await Self.ask(server.port, "reset_mid_stream")
            #expect(exchange.ending == .reset)
            let response = try Self.response(exchange)
            #expect(response.status == 200)
            #expect(response.chunks.complete == false)
            #expect(response.jsonEvents.compactMap(contentOf).count == Self.after)
            #expect(!response.dataPayloads.contains(Array("[DONE]".utf8)))
        }
    }

    @Test func stallsWaitBeforeTheFirstAndAMidStreamToken() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(Self.configuration(tracePath: path)) { server in
            for (fault, id) in [("stall_first_token", "first"), ("stall_mid_stream", "mid")] {
                let response = try Self.response(try await Self.ask(server.port, fault, requestID: id))
                #expect(response.status == 200)
                #expect(response.jsonEvents.compactMap(contentOf).count == 6, "\(fault) goes on after the stall")
                #expect(response.dataPayloads.last == Array("[DONE]".utf8))
            }
        }
        let stallNanos = UInt64(Self.stall.components.attoseconds / 1_000_000_000)
        let first = try Self.traceRows(path, requestID: "first")
        let role = try #require(first.first { $0.kind == "role" })
        let firstToken = try #require(first.first { $0.kind == "first_token" })
        #expect(firstToken.nanos - role.nanos >= stallNanos)
        #expect(first.contains { $0.kind == "fault:stall_first_token" })
        let mid = try Self.traceRows(path, requestID: "mid").filter { $0.kind == "first_token" || $0.kind == "token" }
        #expect(mid.count == 6)
        // content event 2 (after `after` = 2) waits for the stall
        #expect(mid[2].nanos - mid[1].nanos >= stallNanos)
    }

    @Test func malformedJSONSendsOneCutOffEventAndGoesOn() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try Self.response(try await Self.ask(server.port, "malformed_json"))
            #expect(response.status == 200)
            let payloads = response.dataPayloads
            let broken = payloads.enumerated().filter {
                $0.element != Array("[DONE]".utf8) && (try? JSONSerialization.jsonObject(with: Data($0.element))) == nil
            }
            #expect(broken.count == 1)
            // after the role event and `after` content events
            #expect(broken.first?.offset == 1 + Self.after)
            #expect(broken.first.map { String(decoding: $0.element, as: UTF8.self).hasPrefix("{\"id\":") } == true)
            #expect(response.jsonEvents.compactMap(contentOf).count == 6)
            let usage = response.jsonEvents.compactMap { $0["usage"] as? [String: Any] }.first
            #expect(usage?["completion_tokens"] as? Int == 6)
            #expect(payloads.last == Array("[DONE]".utf8))
        }
    }

    @Test func invalidUTF8PutsRawBytesIntoOneContentString() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try Self.response(try await Self.ask(server.port, "invalid_utf8"))
            #expect(response.status == 200)
            let marked = response.dataPayloads.filter { $0.firstRange(of: [0xFF, 0xFE]) != nil }
            #expect(marked.count == 1)
            let payload = try #require(marked.first)
            #expect(String(validatingUTF8: payload.map { CChar(bitPattern: $0) } + [0]) == nil)
            // inside the content string: without the two bytes the event is a valid content chunk
            var repaired = payload
            repaired.removeSubrange(try #require(payload.firstRange(of: [0xFF, 0xFE])))
            let event = try JSONSerialization.jsonObject(with: Data(repaired)) as? [String: Any]
            #expect(event.flatMap(contentOf) != nil)
            #expect(response.dataPayloads.last == Array("[DONE]".utf8))
        }
    }

    @Test func hugeEventCarriesOneFourMebibyteString() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try Self.response(try await Self.ask(server.port, "huge_event"))
            #expect(response.status == 200)
            let contents = response.jsonEvents.compactMap(contentOf)
            #expect(contents.count == 6)
            #expect(contents.filter { $0.utf8.count == 4 << 20 }.count == 1)
            #expect(contents.filter { $0.utf8.count < 64 }.count == 5)
            #expect(response.dataPayloads.last == Array("[DONE]".utf8))
        }
    }

    @Test func noDoneEndsACompleteStreamCleanlyWithoutDone() async throws {
        try await withServer(Self.configuration()) { server in
            let exchange = try await Self.ask(server.port, "no_done")
            #expect(exchange.ending == .eof)
            let response = try Self.response(exchange)
            #expect(response.chunks.complete)
            #expect(!response.dataPayloads.contains(Array("[DONE]".utf8)))
            let events = response.jsonEvents
            #expect(
                events.contains { (($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) != nil })
            #expect(events.last?["usage"] != nil)
        }
    }

    @Test func dripWritesEveryByteOnItsOwn() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try Self.response(try await Self.ask(server.port, "drip", maxTokens: 2))
            #expect(response.status == 200)
            let (chunks, complete) = response.chunks
            #expect(complete)
            #expect(chunks.count > 500)
            #expect(chunks.allSatisfy { $0.count == 1 })
            #expect(response.jsonEvents.compactMap(contentOf).count == 2)
            #expect(response.dataPayloads.last == Array("[DONE]".utf8))
            // a non-streamed answer drips its JSON body the same way
            let plain = try Self.response(try await Self.ask(server.port, "drip", maxTokens: 2, stream: false))
            #expect(plain.status == 200)
            #expect(plain.headers["content-length"].flatMap(Int.init) == plain.rawBody.count)
            #expect((try? JSONSerialization.jsonObject(with: Data(plain.body))) != nil)
        }
    }

    @Test func wrongContentTypeLabelsAHealthyStreamAsJSON() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try Self.response(try await Self.ask(server.port, "wrong_content_type"))
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.jsonEvents.compactMap(contentOf).count == 6)
            #expect(response.dataPayloads.last == Array("[DONE]".utf8))
        }
    }

    @Test func emptyChoicesComeBeforeTheFirstToken() async throws {
        try await withServer(Self.configuration()) { server in
            let events = try Self.response(try await Self.ask(server.port, "empty_choices")).jsonEvents
            let firstContent = try #require(events.firstIndex { contentOf($0) != nil })
            let empty = events.indices.filter {
                ($0 < firstContent) && (events[$0]["choices"] as? [Any])?.isEmpty == true && events[$0]["usage"] == nil
            }
            #expect(empty.count == 3)
            #expect(events.compactMap(contentOf).count == 6)
        }
    }

    @Test func pingCommentsSitBetweenEvents() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try Self.response(try await Self.ask(server.port, "ping_comments"))
            let lines = String(decoding: response.body, as: UTF8.self).components(separatedBy: "\n").filter {
                !$0.isEmpty
            }
            let pings = lines.filter { $0 == ": ping" }
            let data = lines.filter { $0.hasPrefix("data: ") }
            #expect(pings.count == data.count)
            #expect(pings.count > 6)
            // every event is announced by a ping
            for (index, line) in lines.enumerated() where line.hasPrefix("data: ") {
                #expect(index > 0 && lines[index - 1] == ": ping")
            }
            #expect(response.dataPayloads.last == Array("[DONE]".utf8))
        }
    }

    @Test func crlfEndsEveryLineWithCRLF() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try Self.response(try await Self.ask(server.port, "crlf"))
            let body = response.body
            let lineFeeds = body.indices.filter { body[$0] == 0x0A }
            #expect(lineFeeds.count > 10)
            #expect(lineFeeds.allSatisfy { $0 > 0 && body[$0 - 1] == 0x0D })
            #expect(String(decoding: body, as: UTF8.self).hasSuffix("data: [DONE]\r\n\r\n"))
            #expect(response.jsonEvents.compactMap(contentOf).count == 6)
        }
    }

    @Test func multiTokenEventsPackTokensAndUsageCountsThemAll() async throws {
        try await withServer(Self.configuration()) { server in
            let healthy = try Self.response(try await Self.ask(server.port, nil, maxTokens: 10)).jsonEvents
            let packed = try Self.response(try await Self.ask(server.port, "multi_token_events", maxTokens: 10))
                .jsonEvents
            #expect(healthy.compactMap(contentOf).count == 10)
            #expect(packed.compactMap(contentOf).count == 3)  // 4 + 4 + 2
            #expect(packed.compactMap(contentOf).joined() == healthy.compactMap(contentOf).joined())
            let usage = packed.compactMap { $0["usage"] as? [String: Any] }.first
            #expect(usage?["completion_tokens"] as? Int == 10)
        }
    }

    @Test func theHeaderOverridesTheServersFaultAndUnknownNamesAreRejected() async throws {
        try await withServer(Self.configuration(.every(.http500))) { server in
            #expect(try Self.response(try await Self.ask(server.port, nil)).status == 500)
            let healthy = try Self.response(try await Self.ask(server.port, "none"))
            #expect(healthy.status == 200)
            #expect(healthy.dataPayloads.last == Array("[DONE]".utf8))
            let rejected = try Self.response(try await Self.ask(server.port, "no_such_fault"))
            #expect(rejected.status == 400)
            #expect(Self.errorCode(rejected) == "invalid_fault")
            let message = String(decoding: rejected.body, as: UTF8.self)
            for fault in ServerFault.allCases { #expect(message.contains(fault.rawValue)) }
        }
        #expect(throws: FaultConfigurationError.unknownFault("bogus")) { try ServerFault(name: "bogus") }
        #expect(throws: FaultConfigurationError.self) { try FaultConfiguration.parseMix("none=1,bogus=2") }
        #expect(throws: FaultConfigurationError.self) { try FaultConfiguration.parseMix("none=0") }
        #expect(throws: FaultConfigurationError.self) { try FaultConfiguration.parseMix("none=-1,http_500=1") }
        #expect(
            try FaultConfiguration.parseMix("none=8, http_429=2")
                == [.init(.none, weight: 8), .init(.http429, weight: 2)])
    }

    @Test func theSeededMixIsTheSameForTheSameSeed() async throws {
        let weights: [FaultConfiguration.Weighted] = [.init(.none, weight: 1), .init(.http429, weight: 1)]
        func statuses(seed: UInt64) async throws -> [Int] {
            try await withServer(Self.configuration(.mix(weights, seed: seed))) { server in
                var out: [Int] = []
                for _ in 0..<16 { out.append(try Self.response(try await Self.ask(server.port, nil)).status) }
                return out
            }
        }
        let first = try await statuses(seed: 42)
        #expect(try await statuses(seed: 42) == first)
        #expect(Set(first) == [200, 429])
        #expect(try await statuses(seed: 43) != first)
        // the draw itself is a pure function of (seed, index), and a zero weight is never drawn
        let three: [FaultConfiguration.Weighted] = [
            .init(.none, weight: 2), .init(.crlf, weight: 0), .init(.drip, weight: 1),
        ]
        let draws = (0..<300).map { FaultInjector.draw(three, seed: 9, index: UInt64($0)) }
        #expect(draws == (0..<300).map { FaultInjector.draw(three, seed: 9, index: UInt64($0)) })
        #expect(!draws.contains(.crlf))
        #expect((150...250).contains(draws.filter { $0 == .none }.count))
    }

    @Test func faultsApplyToTheCompletionsEndpointToo() async throws {
        try await withServer(Self.configuration()) { server in
            func ask(_ fault: String) async throws -> RawSocketClient.Exchange {
                try await RawSocketClient.exchange(
                    port: server.port,
                    request: RawSocketClient.post(
                        "/v1/completions", json: #"{"model":"synthetic","prompt":"hi","max_tokens":6,"stream":true}"#,
                        headers: [ServerFault.headerName: fault]))
            }
            func texts(_ response: RawResponse) -> [String] {
                response.jsonEvents.compactMap { (($0["choices"] as? [[String: Any]])?.first?["text"] as? String) }
                    .filter { !$0.isEmpty }
            }
            let cut = try await ask("reset_mid_stream")
            #expect(cut.ending == .reset)
            #expect(try texts(Self.response(cut)).count == Self.after)
            let empty = try Self.response(try await ask("empty_choices")).jsonEvents
            #expect(empty.prefix(3).allSatisfy { ($0["choices"] as? [Any])?.isEmpty == true })
            #expect(try texts(Self.response(try await ask("empty_choices"))).count == 6)
        }
    }

    @Test func aNonStreamedRequestDrawnAStreamFaultGetsAHealthyAnswer() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(Self.configuration(.every(.malformedJSON), tracePath: path)) { server in
            let response = try Self.response(try await Self.ask(server.port, nil, stream: false, requestID: "plain"))
            #expect(response.status == 200)
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            #expect((object?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 6)
        }
        #expect(try Self.traceRows(path, requestID: "plain").contains { $0.kind == "fault:none" })
    }

    @Test func theTraceRecordsEachRequestsFaultAndClientPort() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(Self.configuration(tracePath: path)) { server in
            // two requests pipelined on one connection, then one on another connection
            func request(_ id: String, close: Bool) -> String {
                let body = chatBody(maxTokens: 2)
                return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nx-request-id: \(id)\r\n"
                    + "x-llmperf-fault: \(close ? "drip" : "none")\r\n"
                    + (close ? "Connection: close\r\n" : "") + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }
            let both = try await RawSocketClient.exchange(
                port: server.port, request: Array((request("a", close: false) + request("b", close: true)).utf8))
            #expect(both.text.components(separatedBy: "HTTP/1.1 200").count == 3)
            _ = try await Self.ask(server.port, "http_429", requestID: "c")
        }
        func meta(_ id: String) throws -> (fault: String?, port: Int?) {
            let rows = try Self.traceRows(path, requestID: id)
            return (
                rows.first { $0.kind.hasPrefix("fault:") }.map { String($0.kind.dropFirst(6)) },
                rows.first { $0.kind.hasPrefix("remote_port:") }.flatMap { Int($0.kind.dropFirst(12)) }
            )
        }
        let (a, b, c) = (try meta("a"), try meta("b"), try meta("c"))
        #expect(a.fault == "none")
        #expect(b.fault == "drip")
        #expect(c.fault == "http_429")
        #expect(a.port != nil && a.port == b.port)
        #expect(c.port != nil && c.port != a.port)
    }
}
