import Foundation
import InferenceServer
import Testing

/// `POST /v1/embeddings` on the synthetic engine over a real loopback server. Request and response shapes follow
/// OpenAI's API reference ("Embeddings: Create embeddings" and "The embedding object"): `input` as a string, an
/// array of strings, an array of token ids or an array of token-id arrays; `encoding_format` `float` or `base64`
/// (little-endian float32); `dimensions`; the answer a `list` of `embedding` objects with their `index`, and
/// `usage` with `prompt_tokens` and `total_tokens`.
@Suite("Embeddings API")
struct EmbeddingsAPITests {
    static func configuration(
        ttftMs: Double = 0, contextLength: Int = 4096, tracePath: String? = nil, apiKey: String? = nil,
        maxBodyBytes: Int = 1 << 20
    ) -> ServerConfiguration {
        ServerConfiguration(
            port: 0,
            engine: ServerConfiguration.synthetic(ttftMs: ttftMs, itlMs: 0, tokens: 16, contextLength: contextLength),
            tracePath: tracePath, maxBodyBytes: maxBodyBytes, apiKey: apiKey)
    }

    static func post(
        _ server: RunningServer, _ json: String, headers: [String: String] = [:]
    ) async throws -> TestHTTPClient.Result {
        try await TestHTTPClient.post(port: server.port, path: "/v1/embeddings", json: json, headers: headers)
    }

    static func body(_ input: String, extra: String = "") -> String {
        "{\"model\":\"synthetic\",\"input\":\(input)\(extra)}"
    }

    /// The answer's vectors (checking `object`, `index` and `model`) and its usage.
    static func embeddings(_ response: TestHTTPClient.Result) throws -> (vectors: [[Float]], usage: [String: Int]) {
        #expect(response.status == 200, "\(response.text)")
        #expect(response.headers["content-type"] == "application/json")
        let json = try response.json()
        #expect(json["object"] as? String == "list")
        #expect(json["model"] as? String == "synthetic")
        let data = try #require(json["data"] as? [[String: Any]])
        var vectors: [[Float]] = []
        for (position, entry) in data.enumerated() {
            #expect(entry["object"] as? String == "embedding")
            #expect(entry["index"] as? Int == position)
            if let numbers = entry["embedding"] as? [NSNumber] {
                vectors.append(numbers.map { $0.floatValue })
            } else {
                let text = try #require(entry["embedding"] as? String, "\(entry)")
                vectors.append(try decodeBase64(text))
            }
        }
        let usage = try #require(json["usage"] as? [String: Int])
        return (vectors, usage)
    }

    /// Little-endian float32 values from base64.
    static func decodeBase64(_ text: String) throws -> [Float] {
        let bytes = [UInt8](try #require(Data(base64Encoded: text)))
        #expect(bytes.count % 4 == 0)
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) })
        }
    }

    static func length(_ vector: [Float]) -> Double {
        vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    @Test func vectorsAreDeterministicUnitLengthAndInInputOrder() async throws {
        try await withServer(Self.configuration()) { server in
            let batch = try Self.embeddings(
                try await Self.post(server, Self.body(#"["alpha beta", "gamma", "alpha  beta", "delta"]"#)))
            #expect(batch.vectors.count == 4)
            for vector in batch.vectors {
                #expect(vector.count == SyntheticEngine.embeddingWidth && vector.count == 384)
                #expect(abs(Self.length(vector) - 1) < 1e-5)
            }
            // Equal tokens (the words), equal vectors; other words, another vector.
            #expect(batch.vectors[0] == batch.vectors[2])
            #expect(batch.vectors[0] != batch.vectors[1] && batch.vectors[1] != batch.vectors[3])
            #expect(batch.usage == ["prompt_tokens": 6, "total_tokens": 6])
            // The same inputs alone: the same vectors, in the batch's order.
            for (index, input) in ["alpha beta", "gamma", "delta"].enumerated() {
                let single = try Self.embeddings(try await Self.post(server, Self.body("\"\(input)\"")))
                #expect(single.vectors == [batch.vectors[[0, 1, 3][index]]], "\(input)")
                #expect(single.usage["prompt_tokens"] == input.split(separator: " ").count)
            }
            // A request again: the same answer.
            let again = try Self.embeddings(
                try await Self.post(server, Self.body(#"["alpha beta", "gamma", "alpha  beta", "delta"]"#)))
            #expect(again.vectors == batch.vectors)
        }
    }

    @Test func tokenInputsCountTheirIds() async throws {
        try await withServer(Self.configuration()) { server in
            let flat = try Self.embeddings(try await Self.post(server, Self.body("[1, 2, 3]")))
            #expect(flat.vectors.count == 1 && flat.usage == ["prompt_tokens": 3, "total_tokens": 3])
            let nested = try Self.embeddings(try await Self.post(server, Self.body("[[1, 2, 3], [7], [1, 2]]")))
            #expect(nested.vectors.count == 3 && nested.usage == ["prompt_tokens": 6, "total_tokens": 6])
            #expect(nested.vectors[0] == flat.vectors[0])
            #expect(nested.vectors[1] != nested.vectors[0] && nested.vectors[2] != nested.vectors[0])
            let text = try Self.embeddings(try await Self.post(server, Self.body("\"1 2 3\"")))
            #expect(text.vectors[0] != flat.vectors[0])
        }
    }

    @Test func base64IsTheSameFloatsAsLittleEndianBytes() async throws {
        try await withServer(Self.configuration()) { server in
            let input = #"["one two three", "four"]"#
            let floats = try Self.embeddings(try await Self.post(server, Self.body(input)))
            let explicit = try Self.embeddings(
                try await Self.post(server, Self.body(input, extra: ",\"encoding_format\":\"float\"")))
            let response = try await Self.post(server, Self.body(input, extra: ",\"encoding_format\":\"base64\""))
            let data = try #require(try response.json()["data"] as? [[String: Any]])
            #expect(data.allSatisfy { $0["embedding"] is String }, "\(response.text.prefix(200))")
            let encoded = try Self.embeddings(response)
            #expect(encoded.vectors == floats.vectors && explicit.vectors == floats.vectors)
            #expect(encoded.usage == floats.usage)
        }
    }

    @Test func dimensionsTruncateAndRenormalise() async throws {
        try await withServer(Self.configuration()) { server in
            let full = try Self.embeddings(try await Self.post(server, Self.body("\"shorten me\""))).vectors[0]
            for dimensions in [1, 8, 383, 384] {
                let short = try Self.embeddings(
                    try await Self.post(server, Self.body("\"shorten me\"", extra: ",\"dimensions\":\(dimensions)"))
                ).vectors[0]
                #expect(short.count == dimensions)
                #expect(abs(Self.length(short) - 1) < 1e-5, "\(dimensions)")
                // The leading values, scaled by one factor.
                let scale = Double(short[0]) / Double(full[0])
                for i in 0..<dimensions {
                    #expect(abs(Double(short[i]) - Double(full[i]) * scale) < 1e-5, "\(dimensions) at \(i)")
                }
                if dimensions == 384 { #expect(short == full) }
            }
        }
    }

    @Test func badRequestsAre400sNamingTheField() async throws {
        try await withServer(Self.configuration(contextLength: 16, maxBodyBytes: 64 << 10)) { server in
            let many = "[" + Array(repeating: "\"a\"", count: 2049).joined(separator: ",") + "]"
            let long = "\"" + Array(repeating: "w", count: 17).joined(separator: " ") + "\""
            let cases: [(json: String, param: String?, code: String?)] = [
                (Self.body("\"\""), "input", nil),
                (Self.body("[]"), "input", nil),
                (Self.body(#"["a", ""]"#), "input[1]", nil),
                (Self.body("[[1, 2], []]"), "input[1]", nil),
                (Self.body("[1, -5]"), "input[1]", "invalid_value"),
                (Self.body("[[1, 2], [3, -1]]"), "input[1][1]", "invalid_value"),
                (Self.body("[4294967296]"), "input[0]", "invalid_value"),
                (Self.body(#"[[1, "x"]]"#), "input[0][1]", "invalid_type"),
                (Self.body("[[1, 2.5]]"), "input[0][1]", "invalid_type"),
                (Self.body(#"["a", 1]"#), "input[1]", "invalid_type"),
                (Self.body(#"[[1], "a"]"#), "input[1]", "invalid_type"),
                (Self.body("[null]"), "input[0]", "invalid_type"),
                (Self.body(#"{"text": "a"}"#), "input", "invalid_type"),
                (Self.body("7"), "input", "invalid_type"),
                (Self.body(many), "input", "invalid_value"),
                (Self.body(long), "input", "context_length_exceeded"),
                (Self.body(#"["a", \#(long)]"#), "input[1]", "context_length_exceeded"),
                (Self.body("\"a\"", extra: ",\"encoding_format\":\"int8\""), "encoding_format", "invalid_value"),
                (Self.body("\"a\"", extra: ",\"encoding_format\":1"), "encoding_format", "invalid_type"),
                (Self.body("\"a\"", extra: ",\"dimensions\":0"), "dimensions", "invalid_value"),
                (Self.body("\"a\"", extra: ",\"dimensions\":-3"), "dimensions", "invalid_value"),
                (Self.body("\"a\"", extra: ",\"dimensions\":385"), "dimensions", "invalid_value"),
                (Self.body("\"a\"", extra: ",\"dimensions\":\"8\""), "dimensions", "invalid_type"),
                ("{\"model\":\"synthetic\"}", "input", "missing_required_parameter"),
                ("{\"input\":\"a\"}", "model", "missing_required_parameter"),
                ("{nope", nil, "invalid_json"),
                ("[]", nil, "invalid_json"),
            ]
            for (json, param, code) in cases {
                let response = try await Self.post(server, json)
                #expect(response.status == 400, "\(json.prefix(80)): \(response.text)")
                guard let error = (try? response.json())?["error"] as? [String: Any] else {
                    Issue.record("\(json.prefix(80)): no error object in \(response.text.prefix(200))")
                    continue
                }
                #expect(error["type"] as? String == "invalid_request_error")
                #expect(error["param"] as? String == param, "\(json.prefix(80)): \(response.text)")
                if let code { #expect(error["code"] as? String == code, "\(json.prefix(80)): \(response.text)") }
            }
            // 16 words fit a 16-token context exactly: no completion needs room after them.
            let fits = "\"" + Array(repeating: "w", count: 16).joined(separator: " ") + "\""
            #expect(try Self.embeddings(try await Self.post(server, Self.body(fits))).usage["prompt_tokens"] == 16)

            let unknown = try await Self.post(server, "{\"model\":\"other\",\"input\":\"a\"}")
            #expect(unknown.status == 404)
            #expect((try unknown.json()["error"] as? [String: Any])?["code"] as? String == "model_not_found")
            let big = Self.body("\"" + String(repeating: "x ", count: 40_000) + "\"")
            let tooLarge = try await Self.post(server, big)
            #expect(tooLarge.status == 413, "\(tooLarge.text)")
            let get = try await TestHTTPClient.send(port: server.port, path: "/v1/embeddings")
            #expect(get.status == 405 && get.headers["allow"] == "POST")
        }
    }

    @Test func anAPIKeyIsRequired() async throws {
        try await withServer(Self.configuration(apiKey: "sekrit-2")) { server in
            for headers in [[:], ["Authorization": "Bearer wrong"]] {
                let refused = try await Self.post(server, Self.body("\"a\""), headers: headers)
                #expect(refused.status == 401, "\(headers)")
                #expect((try refused.json()["error"] as? [String: Any])?["code"] as? String == "invalid_api_key")
            }
            let allowed = try await Self.post(server, Self.body("\"a\""), headers: ["Authorization": "Bearer sekrit-2"])
            #expect(allowed.status == 200)
        }
    }

    /// Each input is one prefill of `ttftMs`, as a chat prompt's: a batch's answer comes later than one input's.
    @Test func latencyIsOnePrefillPerInput() async throws {
        try await withServer(Self.configuration(ttftMs: 120)) { server in
            for (input, count) in [("\"a b c\"", 1), (#"["a", "b c", "d"]"#, 3)] {
                let start = ContinuousClock.now
                _ = try Self.embeddings(try await Self.post(server, Self.body(input)))
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(120 * count), "\(count) inputs: \(elapsed)")
            }
        }
    }
}
