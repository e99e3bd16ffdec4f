import Foundation
import Testing

@testable import LLMPerfCore

/// Each dataset format read to exact conversations (systems, user turns, recorded lengths), the
/// counted skips, and the positioned errors with their exact lines; every fixture is also read in
/// tiny chunks so that records span reads.
@Suite("Dataset reader")
struct DatasetReaderTests {
    static func write(_ text: String, name: String) throws -> String {
        try write(Data(text.utf8), name: name)
    }

    static func write(_ data: Data, name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-dataset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// Reads at the default chunk size and at several tiny ones; the results must agree.
    static func read(
        _ text: String, name: String, format: DatasetFormat, configure: (inout DatasetSpec) -> Void = { _ in }
    ) throws -> Result<DatasetReader.Contents, DatasetError> {
        let path = try write(text, name: name)
        var spec = DatasetSpec(path: name, format: format)
        configure(&spec)
        let whole = DatasetReader.read(path: path, spec: spec)
        for chunk in [1, 2, 3, 7, 64] {
            let pieces = DatasetReader.read(path: path, spec: spec, chunkSize: chunk)
            switch (whole, pieces) {
            case (.success(let a), .success(let b)): #expect(a == b, "chunk size \(chunk)")
            case (.failure(let a), .failure(let b)):
                #expect(a.message == b.message && a.line == b.line, "chunk size \(chunk): \(a) vs \(b)")
            default: Issue.record("chunk size \(chunk): \(whole) vs \(pieces)")
            }
        }
        return whole
    }

    static func contents(
        _ text: String, name: String, format: DatasetFormat, configure: (inout DatasetSpec) -> Void = { _ in }
    ) throws -> DatasetReader.Contents {
        try read(text, name: name, format: format, configure: configure).get()
    }

    /// The error's text without the temporary directory: `x.jsonl:3:1: …`.
    static func failure(
        _ text: String, name: String, format: DatasetFormat, configure: (inout DatasetSpec) -> Void = { _ in }
    ) throws -> String {
        switch try read(text, name: name, format: format, configure: configure) {
        case .success: return "no error"
        case .failure(let error):
            var error = error
            error.file = (error.file as NSString).lastPathComponent
            return error.description
        }
    }

    // MARK: formats

    @Test func shareGPTArrayAcrossLines() throws {
        let text = """
            [
              {"id": "a", "conversations": [
                {"from": "system", "value": "Be brief."},
                {"from": "human", "value": "First question?"},
                {"from": "gpt", "value": "one two three"},
                {"from": "human", "value": "Then \\"this\\",\\nplease \\u00e9\\ud83d\\ude00"},
                {"from": "gpt", "value": "one two three four five six"}
              ]},
              {"id": "b", "conversations": [
                {"from": "gpt", "value": "A greeting nobody asked for."},
                {"from": "human", "value": "Only question"}
              ]}
            ]
            """
        let contents = try Self.contents(text, name: "s.json", format: .sharegpt)
        #expect(
            contents.conversations == [
                DatasetConversation(
                    line: 2, system: "Be brief.",
                    turns: [
                        DatasetTurn(user: "First question?", answerTokens: 4),
                        DatasetTurn(user: "Then \"this\",\nplease é😀", answerTokens: 8),
                    ]),
                DatasetConversation(line: 9, turns: [DatasetTurn(user: "Only question", answerTokens: nil)]),
            ])
        #expect(contents.recordCount == 2)
        #expect(contents.skipped.isEmpty)
        #expect(contents.sha256 == ScenarioDigest.sha256Hex(text))
    }

    @Test func shareGPTAsJSONLinesWithCountedSkips() throws {
        let text = """
            {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello there"}]}

            {"conversations": []}
            {"conversations": [{"from": "system", "value": "s"}, {"from": "gpt", "value": "g"}]}
            {"conversations": [{"from": "user", "value": ""}, {"from": "assistant", "value": "x"}]}
            {"conversations": []}
            {"conversations": [{"from": "human", "value": "last"}, {"from": "chatgpt", "value": "a b c"}]}
            """
        let contents = try Self.contents(text, name: "s.jsonl", format: .sharegpt)
        #expect(
            contents.conversations == [
                DatasetConversation(line: 1, turns: [DatasetTurn(user: "hi", answerTokens: 3)]),
                DatasetConversation(line: 7, turns: [DatasetTurn(user: "last", answerTokens: 4)]),
            ])
        #expect(contents.recordCount == 6)
        #expect(
            contents.skipped == [
                DatasetSkip(reason: "empty conversations", count: 2, firstLine: 3),
                DatasetSkip(reason: "conversations without a user turn", count: 1, firstLine: 4),
                DatasetSkip(reason: "conversations with an empty user turn", count: 1, firstLine: 5),
            ])
    }

    @Test func openAIChatLines() throws {
        let text = """
            {"messages": [{"role": "developer", "content": "Rules."}, {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "a b c"}, {"role": "user", "content": "Q2"}]}
            {"messages": [{"role": "user", "content": "Solo"}, {"role": "assistant", "content": "x"}], "extra": {"ignored": [1, 2.5e3, true, null]}}
            """
        let contents = try Self.contents(text, name: "o.jsonl", format: .openAIChat)
        #expect(
            contents.conversations == [
                DatasetConversation(
                    line: 1, system: "Rules.",
                    turns: [DatasetTurn(user: "Q1", answerTokens: 4), DatasetTurn(user: "Q2", answerTokens: nil)]),
                DatasetConversation(line: 2, turns: [DatasetTurn(user: "Solo", answerTokens: 1)]),
            ])
    }

    @Test func promptLinesWithLengths() throws {
        let text = """
            {"prompt": "one", "max_tokens": 12}
            {"prompt": "two", "system": "sys", "output_tokens": 5}
            {"prompt": "three"}
            {"prompt": ""}
            """
        let contents = try Self.contents(text, name: "p.jsonl", format: .jsonl)
        #expect(
            contents.conversations == [
                DatasetConversation(line: 1, turns: [DatasetTurn(user: "one", answerTokens: 12)]),
                DatasetConversation(line: 2, system: "sys", turns: [DatasetTurn(user: "two", answerTokens: 5)]),
                DatasetConversation(line: 3, turns: [DatasetTurn(user: "three")]),
            ])
        #expect(contents.skipped == [DatasetSkip(reason: "empty prompts", count: 1, firstLine: 4)])
    }

    @Test func csvWithQuotingAndNamedColumns() throws {
        let text =
            "id,question,length,persona\r\n"
            + "1,\"Salt, pepper, and \"\"oil\"\"\",7,\r\n"
            + "2,\"A prompt on\ntwo lines\",,Be kind.\r\n"
            + "\r\n"
            + "3,plain,12,\n"
            + "4,,3,"
        let contents = try Self.contents(text, name: "p.csv", format: .csv) {
            $0.promptColumn = "question"
            $0.outputColumn = "length"
            $0.systemColumn = "persona"
        }
        #expect(
            contents.conversations == [
                DatasetConversation(line: 2, turns: [DatasetTurn(user: "Salt, pepper, and \"oil\"", answerTokens: 7)]),
                DatasetConversation(
                    line: 3, system: "Be kind.", turns: [DatasetTurn(user: "A prompt on\ntwo lines", answerTokens: nil)]
                ),
                DatasetConversation(line: 6, turns: [DatasetTurn(user: "plain", answerTokens: 12)]),
            ])
        #expect(contents.recordCount == 4)
        #expect(contents.skipped == [DatasetSkip(reason: "empty prompts", count: 1, firstLine: 7)])
    }

    // MARK: positioned errors

    @Test func aRecordOfTheWrongShapeNamesItsLine() throws {
        let text = """
            {"conversations": [{"from": "human", "value": "ok"}]}
            {"conversations": [{"from": "human", "value": "ok"}]}
            [{"from": "human", "value": "not wrapped"}]
            """
        #expect(
            try Self.failure(text, name: "x.jsonl", format: .sharegpt)
                == "x.jsonl:3:1: expected an object with \"conversations\", got an array")
        #expect(
            try Self.failure(#"{"id": 1}"#, name: "x.jsonl", format: .sharegpt)
                == "x.jsonl:1:1: expected an object with \"conversations\", got an object with \"id\"")
        #expect(
            try Self.failure(#"{"messages": {"role": "user"}}"#, name: "o.jsonl", format: .openAIChat)
                == "o.jsonl:1:14: \"messages\": expected an array of {\"role\": …, \"content\": …} objects, got an object"
        )
    }

    @Test func unknownRolesAndNonStringValuesArePositioned() throws {
        let text = """
            [
              {"conversations": [
                {"from": "human", "value": "ok"},
                {"from": "tool", "value": "x"}
              ]}
            ]
            """
        #expect(
            try Self.failure(text, name: "r.json", format: .sharegpt)
                == "r.json:4:14: unknown from \"tool\"; expected one of human, user, gpt, assistant, chatgpt, system")
        let number = """
            {"messages": [{"role": "user", "content": "fine"}]}
            {"messages": [{"role": "user", "content": 42}]}
            """
        #expect(
            try Self.failure(number, name: "n.jsonl", format: .openAIChat)
                == "n.jsonl:2:43: \"content\": expected a string, got the number 42")
        #expect(
            try Self.failure(#"{"prompt": "p", "max_tokens": "ten"}"#, name: "p.jsonl", format: .jsonl)
                == "p.jsonl:1:31: \"max_tokens\": expected a whole number ≥ 1, got a string")
        #expect(
            try Self.failure(
                #"{"conversations": [{"from": "human", "value": "a"}, {"from": "system", "value": "b"}]}"#,
                name: "late.jsonl", format: .sharegpt)
                == "late.jsonl:1:53: a system message after the first user turn; only a leading one is kept")
    }

    @Test func syntaxErrorsAndTruncationArePositioned() throws {
        let missingComma = """
            [
              {"conversations": []}
              {"conversations": []}
            ]
            """
        #expect(
            try Self.failure(missingComma, name: "c.json", format: .sharegpt)
                == "c.json:3:3: expected ',' or ']' after an element of the top-level array")
        #expect(
            try Self.failure("[\n  {\"conversations\": [\n", name: "t.json", format: .sharegpt)
                == "t.json:3:1: unexpected end of file: expected ']'")
        #expect(
            try Self.failure("{\"prompt\": \"a\nb\"}", name: "nl.jsonl", format: .jsonl)
                == "nl.jsonl:1:14: a line break inside a string (write it as \\n)")
        #expect(try Self.failure("[]", name: "e.json", format: .sharegpt) == "e.json: contains no conversations")
    }

    @Test func badUTF8IsPositioned() throws {
        var bytes = Array(#"{"prompt": "fine"}"#.utf8) + [0x0A]
        bytes += Array(#"{"prompt": "bad "#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let path = try Self.write(Data(bytes), name: "u.jsonl")
        guard case .failure(let error) = DatasetReader.read(path: path, spec: DatasetSpec(path: "", format: .jsonl))
        else { return #expect(Bool(false), "expected an error") }
        #expect(error.line == 2 && error.column == 12)
        #expect(error.message == "the string is not valid UTF-8")
    }

    @Test func csvErrorsNameTheColumnAndRow() throws {
        #expect(
            try Self.failure("id,text\n1,hello\n", name: "m.csv", format: .csv)
                == "m.csv:1:1: no column named \"prompt\" (prompt_column); the header has \"id\", \"text\"")
        #expect(
            try Self.failure("prompt\nhello\n", name: "o.csv", format: .csv) { $0.outputTokensFromDataset = true }
                == "o.csv:1:1: no column named \"output_tokens\" (output_column, needed by output_tokens: "
                + "from_dataset); the header has \"prompt\"")
        #expect(
            try Self.failure("prompt,output_tokens\na,3\nb,many\n", name: "n.csv", format: .csv)
                == "n.csv:3:3: column \"output_tokens\": expected a whole number ≥ 1, got \"many\"")
        #expect(
            try Self.failure("prompt,output_tokens\n\"a\nb\",3\nc\n", name: "f.csv", format: .csv)
                == "f.csv:4:1: expected 2 fields (as the header), got 1")
        #expect(
            try Self.failure("prompt\n\"never closed\n", name: "q.csv", format: .csv)
                == "q.csv:2:1: unexpected end of file: a quoted field is not closed")
    }

    @Test func aMissingFileSaysWhy() {
        let result = DatasetReader.read(
            path: "/nonexistent/llmperf/x.json", spec: DatasetSpec(path: "x.json", format: .sharegpt))
        #expect(
            result
                == .failure(
                    DatasetError(file: "/nonexistent/llmperf/x.json", message: "cannot read: No such file or directory")
                ))
    }

    @Test func answerLengthsFollowTheWordRule() {
        for text in [
            "one", "one two three", "  spaced\tout\nwords  ", "café über 漢字 x", String(repeating: "w ", count: 99),
        ] {
            #expect(DatasetReader.answerTokens(text) == max(1, TokenEstimate.words(text)), "\(text)")
        }
        #expect(DatasetReader.answerTokens("") == 0)
    }

    /// Records far larger than a read, crossing many chunk boundaries, keep their lines.
    @Test func recordsLargerThanAChunk() throws {
        var lines: [String] = []
        for index in 0..<50 {
            let long = String(repeating: "word\(index) ", count: 300)
            lines.append(
                #"{"conversations": [{"from": "human", "value": "q\#(index) \#(long)"}, {"from": "gpt", "value": "a b c"}]}"#
            )
        }
        let path = try Self.write(lines.joined(separator: "\n"), name: "big.jsonl")
        let spec = DatasetSpec(path: "big.jsonl", format: .sharegpt)
        let contents = try DatasetReader.read(path: path, spec: spec, chunkSize: 1000).get()
        #expect(contents.conversations.count == 50)
        #expect(contents.conversations[49].line == 50)
        #expect(contents.conversations[49].turns[0].user.hasPrefix("q49 word49 word49"))
        #expect(contents.conversations[49].turns[0].answerTokens == 4)
    }
}
