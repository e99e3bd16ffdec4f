import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Speculative decoding on the real default model, through `llmperf serve` (release build): with every drafter the
/// greedy answer is exactly the plain greedy answer, and the acceptance counts come back in `usage`.
@Suite(.serialized) struct SpeculativeServingTests {
    static let prompts = [
        // Grounded: the answer copies the prompt, where prompt lookup drafts well.
        "Repeat the following sentence word for word: The old mill stood at the bend of the river for two hundred "
            + "years, and every spring the water rose and turned the great wheel faster.",
        // Open: nothing to copy.
        "Tell me about your favourite season of the year and what you like to do in it.",
    ]

    struct Answer: Equatable {
        var text: String
        var drafted: Int?
        var accepted: Int?
    }

    /// Starts `llmperf serve` with `flags` on a free port, asks every prompt (greedy, 40 tokens), stops it.
    static func answers(_ flags: [String]) async throws -> [Answer] {
        let binary = try LLMPerfProcess.releaseBinary()
        let server = try LLMPerfProcess.start(
            ["serve", "--model", "default", "--port", "0", "--weights", "f32"] + flags, binary: binary)
        defer {
            server.interrupt()
            _ = try? server.wait(timeout: 10)
        }
        var base: String?
        for _ in 0..<600 where base == nil {
            if let line = server.stdoutSoFar.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                base = String(line.dropFirst("listening on ".count))
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let url = try #require(base, "serve \(flags) did not start: \(server.stderrSoFar)")
        var answers: [Answer] = []
        for prompt in prompts {
            var request = URLRequest(url: URL(string: url + "/v1/chat/completions")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.timeoutInterval = 120
            let body: [String: Any] = [
                "model": "default", "messages": [["role": "user", "content": prompt]], "max_tokens": 40,
                "temperature": 0,
            ]
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            var data = Data()
            var status = 503
            for _ in 0..<600 where status == 503 {
                // 503 while the model loads.
                let (received, response) = try await URLSession.shared.data(for: request)
                status = (response as? HTTPURLResponse)?.statusCode ?? 0
                data = received
                if status == 503 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == 200, "\(String(decoding: data, as: UTF8.self))")
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let choices = try #require(object["choices"] as? [[String: Any]])
            let text = try #require((choices.first?["message"] as? [String: Any])?["content"] as? String)
            let usage = try #require(object["usage"] as? [String: Any])
            answers.append(
                Answer(
                    text: text, drafted: usage["speculative_drafted_tokens"] as? Int,
                    accepted: usage["speculative_accepted_tokens"] as? Int))
        }
        return answers
    }

    @Test func everyDrafterGivesExactlyThePlainGreedyAnswer() async throws {
        let plain = try await Self.answers([])
        #expect(plain.allSatisfy { !$0.text.isEmpty && $0.drafted == nil })
        for flags in [
            ["--speculative", "ngram"], ["--speculative", "self:q4_0"], ["--speculative", "self:q8_0"],
            // Any GGUF with the same vocabulary drafts; here the shipped file itself, in its own format.
            ["--speculative", "draft:default", "--draft-tokens", "3"],
        ] {
            let speculative = try await Self.answers(flags)
            #expect(speculative.map(\.text) == plain.map(\.text), "\(flags)")
            for answer in speculative {
                let drafted = try #require(answer.drafted, "\(flags)")
                let accepted = try #require(answer.accepted, "\(flags)")
                #expect(accepted >= 0 && accepted <= drafted, "\(flags)")
            }
            // Every model drafter proposes something on every step; prompt lookup finds the copied sentence.
            #expect(speculative.reduce(0) { $0 + ($1.accepted ?? 0) } > 0, "\(flags)")
        }
    }
}
