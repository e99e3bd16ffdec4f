import Foundation
import InferenceServer
import Testing

@Suite("Streaming responses")
struct StreamingTests {
    @Test func chatStreamWithUsage() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: chatBody(maxTokens: 5, stream: true, includeUsage: true), headers: ["x-request-id": "req-42"])
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/event-stream")
            #expect(response.headers["x-request-id"] == "req-42")
            let events = response.events
            #expect(events.last == "[DONE]")
            #expect(events.count == 9)  // role, 5 tokens, finish, usage, [DONE]

            let role = try eventJSON(events[0])
            let roleDelta = try #require((role["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
            #expect(roleDelta["role"] as? String == "assistant")
            #expect(role["object"] as? String == "chat.completion.chunk")
            #expect(role["model"] as? String == "synthetic")
            let id = try #require(role["id"] as? String)
            #expect(id.hasPrefix("chatcmpl-"))

            var text = ""
            for event in events[1...5] {
                let chunk = try eventJSON(event)
                #expect(chunk["id"] as? String == id)
                let choice = try #require((chunk["choices"] as? [[String: Any]])?.first)
                text += try #require((choice["delta"] as? [String: Any])?["content"] as? String)
                #expect(choice["finish_reason"] is NSNull)
            }
            #expect(text == "lorem ipsum dolor sit amet")

            let finish = try eventJSON(events[6])
            #expect((finish["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "length")

            let usageChunk = try eventJSON(events[7])
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            let usage = try #require(usageChunk["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(usage["prompt_tokens"] as? Int == 4)  // <|user|> Say something <|assistant|>
            #expect(usage["total_tokens"] as? Int == 9)
        }
    }

    @Test func chatStreamWithoutUsage() async throws {
        try await withServer(syntheticConfiguration()) { server in
            for includeUsage in [nil, false] as [Bool?] {
                let response = try await TestHTTPClient.post(
                    port: server.port, path: "/v1/chat/completions",
                    json: chatBody(maxTokens: 3, stream: true, includeUsage: includeUsage))
                let events = response.events
                #expect(events.count == 6)
                #expect(events.last == "[DONE]")
                #expect(!events.contains { $0.contains("\"usage\"") })
            }
        }
    }

    @Test func completionStream() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json:
                    #"{"model":"synthetic","prompt":"one two three","max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}"#
            )
            #expect(response.status == 200)
            let events = response.events
            #expect(events.count == 7)
            var text = ""
            for event in events[0..<4] {
                let chunk = try eventJSON(event)
                #expect(chunk["object"] as? String == "text_completion")
                text += try #require((chunk["choices"] as? [[String: Any]])?.first?["text"] as? String)
            }
            #expect(text == "lorem ipsum dolor sit")
            #expect(
                (try eventJSON(events[4])["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String
                    == "length")
            let usage = try #require(try eventJSON(events[5])["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 3)
            #expect(usage["completion_tokens"] as? Int == 4)
            #expect(events[6] == "[DONE]")
        }
    }

    @Test func defaultLengthAndMaxCompletionTokens() async throws {
        try await withServer(syntheticConfiguration(tokens: 7)) { server in
            let defaulted = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: chatBody(stream: true, includeUsage: true))
            let events = defaulted.events
            #expect(events.count == 11)
            #expect(
                (try eventJSON(events[8])["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "stop")
            let capped = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: chatBody(maxTokens: 9, stream: true, extra: #","max_completion_tokens":2"#))
            #expect(capped.events.count == 5)
        }
    }

    @Test func stopSequenceEndsTheStream() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: chatBody(maxTokens: 10, stream: true, includeUsage: true, extra: #","stop":[" sit"," nope"]"#))
            let events = response.events
            var text = ""
            for event in events.dropFirst() where event.contains("\"content\"") {
                text += try #require(
                    ((try eventJSON(event)["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?[
                        "content"]
                        as? String)
            }
            #expect(text == "lorem ipsum dolor")
            #expect(events.contains { $0.contains(#""finish_reason":"stop""#) })
            #expect(events.last == "[DONE]")
        }
    }

    @Test func heldBackTextIsSentWhenNoStopMatches() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json: #"{"model":"synthetic","prompt":"x","max_tokens":4,"stream":true,"stop":" sitx"}"#)
            var text = ""
            for event in response.events.dropLast(2) {
                text += try #require((try eventJSON(event)["choices"] as? [[String: Any]])?.first?["text"] as? String)
            }
            #expect(text == "lorem ipsum dolor sit")
            #expect(response.events.dropLast().last?.contains(#""finish_reason":"length""#) == true)
        }
    }

    @Test func timingFollowsTTFTAndITL() async throws {
        // Generous bounds: only that the server waits at least as long as configured, and not absurdly longer.
        try await withServer(syntheticConfiguration(ttftMs: 150, itlMs: 20)) { server in
            let start = ContinuousClock.now
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json: #"{"model":"synthetic","prompt":"x","max_tokens":6,"stream":true}"#)
            let elapsed = ContinuousClock.now - start
            #expect(response.events.count == 8)
            #expect(elapsed >= .milliseconds(250))
            #expect(elapsed < .seconds(5))
        }
    }

    @Test func concurrentStreams() async throws {
        try await withServer(syntheticConfiguration(itlMs: 1)) { server in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await TestHTTPClient.post(
                            port: server.port, path: "/v1/chat/completions", json: chatBody(maxTokens: 20, stream: true)
                        ).events.count
                    }
                }
                for try await count in group { #expect(count == 23) }
            }
        }
    }

    @Test func clientDisconnectMidStreamLeavesServerHealthy() async throws {
        try await withServer(syntheticConfiguration(itlMs: 2)) { server in
            let cut = try await TestHTTPClient.send(
                port: server.port, method: "POST", path: "/v1/chat/completions",
                headers: ["Content-Type": "application/json"], body: chatBody(maxTokens: 4000, stream: true),
                readLimit: 2000)
            #expect(cut.status == 200)
            let health = try await TestHTTPClient.send(port: server.port, path: "/health")
            #expect(health.status == 200)
        }
    }
}
