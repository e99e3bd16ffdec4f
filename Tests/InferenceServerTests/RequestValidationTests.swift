import Foundation
import InferenceServer
import Testing

@Suite("Malformed requests get OpenAI-style errors")
struct RequestValidationTests {
    struct BadRequest: Sendable, CustomTestStringConvertible {
        var path = "/v1/chat/completions"
        var body: String
        var status = 400
        var param: String?
        var testDescription: String { "\(status) \(param ?? "-"): \(body.prefix(60))" }
    }

    static let message = #"[{"role":"user","content":"hi"}]"#
    static let cases: [BadRequest] = [
        BadRequest(body: "{not json", param: nil),
        BadRequest(body: "", param: nil),
        BadRequest(body: "[1,2]", param: nil),
        BadRequest(body: #"{"model":"synthetic"}"#, param: "messages"),
        BadRequest(body: #"{"messages":\#(message)}"#, param: "model"),
        BadRequest(body: #"{"model":"synthetic","messages":[]}"#, param: "messages"),
        BadRequest(body: #"{"model":"synthetic","messages":"hi"}"#, param: "messages"),
        BadRequest(body: #"{"model":"synthetic","messages":[{"content":"hi"}]}"#, param: "messages[0].role"),
        BadRequest(body: #"{"model":"synthetic","messages":[{"role":"user"}]}"#, param: "messages[0].content"),
        BadRequest(
            body: #"{"model":"synthetic","messages":[{"role":"robot","content":"x"}]}"#, param: "messages[0].role"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"max_tokens":-3}"#, param: "max_tokens"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"max_tokens":0}"#, param: "max_tokens"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"max_tokens":"9"}"#, param: "max_tokens"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"stream":"yes"}"#, param: "stream"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"temperature":9}"#, param: "temperature"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"stop":7}"#, param: "stop"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"n":3}"#, param: "n"),
        BadRequest(body: #"{"model":"gpt-9","messages":\#(message)}"#, status: 404, param: "model"),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"max_tokens":100}"#, param: "max_tokens"),
        BadRequest(
            body: #"{"model":"synthetic","messages":\#(message),"max_tokens":9223372036854775807}"#, param: "max_tokens"
        ),
        BadRequest(body: #"{"model":"synthetic","messages":\#(message),"max_tokens":1.5}"#, param: nil),
        BadRequest(
            body: #"{"model":"synthetic","messages":[{"role":"user","content":5}]}"#, param: "messages[0].content"),
        BadRequest(
            body:
                #"{"model":"synthetic","messages":[{"role":"user","content":"\#(String(repeating: "w ", count: 70))"}]}"#,
            param: "messages"),
        BadRequest(path: "/v1/completions", body: #"{"model":"synthetic"}"#, param: "prompt"),
        BadRequest(path: "/v1/completions", body: #"{"model":"synthetic","prompt":[1,2,3]}"#, param: "prompt"),
        BadRequest(path: "/v1/completions", body: #"{"model":"synthetic","prompt":["a","b"]}"#, param: "prompt"),
        BadRequest(
            path: "/v1/completions", body: #"{"model":"synthetic","prompt":"x","max_tokens":-1}"#, param: "max_tokens"),
    ]

    @Test(arguments: cases)
    func rejected(_ bad: BadRequest) async throws {
        // context length 64: the 70-word prompt and max_tokens 100 exceed it
        try await withServer(syntheticConfiguration(contextLength: 64)) { server in
            let response = try await TestHTTPClient.post(port: server.port, path: bad.path, json: bad.body)
            #expect(response.status == bad.status)
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect(error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.isEmpty == false)
            #expect(error.keys.contains("code"))
            if let param = bad.param {
                #expect(error["param"] as? String == param)
            } else {
                #expect(error["param"] is NSNull)
            }
        }
    }

    @Test func unknownPathAndWrongMethod() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let missing = try await TestHTTPClient.send(port: server.port, path: "/v1/nothing")
            #expect(missing.status == 404)
            #expect((try missing.json()["error"] as? [String: Any])?["code"] as? String == "not_found")
            let wrongMethod = try await TestHTTPClient.send(port: server.port, path: "/v1/chat/completions")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["allow"] == "POST")
            #expect((try wrongMethod.json()["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
            let postToHealth = try await TestHTTPClient.post(port: server.port, path: "/health", json: "{}")
            #expect(postToHealth.status == 405)
        }
    }

    @Test func bodyTooLarge() async throws {
        try await withServer(syntheticConfiguration(maxBodyBytes: 1024)) { server in
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: chatBody(String(repeating: "x", count: 4096)))
            #expect(response.status == 413)
            #expect((try response.json()["error"] as? [String: Any])?["code"] as? String == "body_too_large")
            let health = try await TestHTTPClient.send(port: server.port, path: "/health")
            #expect(health.status == 200)
        }
    }
}
