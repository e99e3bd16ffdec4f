import Foundation
import Testing

@testable import LLMPerfCore

/// The trace formats `load.replay` reads, on fixtures written for these tests: exact offsets, lengths and
/// block ids, and errors that name the file, the line and what was expected.
@Suite struct ReplayTraceParserTests {
    static let ms: UInt64 = 1_000_000

    func parse(_ text: String, _ format: ReplayFormat) throws(ReplayTraceError) -> [ReplayRequest] {
        try ReplayTraceParser.parse(text, format: format, file: "t.txt")
    }

    func failure(_ text: String, _ format: ReplayFormat) -> ReplayTraceError? {
        do {
            _ = try parse(text, format)
            return nil
        } catch {
            return error
        }
    }

    @Test func mooncakeRowsKeepTheirLengthsBlocksAndMillisecondOffsets() throws {
        let rows = try parse(
            """
            {"timestamp": 1500, "input_length": 700, "output_length": 12, "hash_ids": [3, 4]}

            {"timestamp": 1500, "input_length": 1030, "output_length": 7, "hash_ids": [3, 4, 9]}
            {"hash_ids": [5], "output_length": 1, "input_length": 1, "timestamp": 4250.5}
            """, .mooncake)
        #expect(
            rows == [
                ReplayRequest(offsetNanos: 0, inputTokens: 700, outputTokens: 12, hashIDs: [3, 4], line: 1),
                ReplayRequest(offsetNanos: 0, inputTokens: 1030, outputTokens: 7, hashIDs: [3, 4, 9], line: 3),
                ReplayRequest(offsetNanos: 2_750_500_000, inputTokens: 1, outputTokens: 1, hashIDs: [5], line: 4),
            ])
    }

    @Test func ourJSONLinesTakeOptionalBlocks() throws {
        let rows = try parse(
            """
            {"timestamp_ms": 0, "input_tokens": 10, "output_tokens": 2}\r
            {"timestamp_ms": 20, "input_tokens": 11, "output_tokens": 3, "hash_ids": [1]}\r
            """, .jsonl)
        #expect(
            rows == [
                ReplayRequest(offsetNanos: 0, inputTokens: 10, outputTokens: 2, hashIDs: [], line: 1),
                ReplayRequest(offsetNanos: 20 * Self.ms, inputTokens: 11, outputTokens: 3, hashIDs: [1], line: 2),
            ])
    }

    @Test func azureTimestampsAreDatesWhoseDifferencesCount() throws {
        let rows = try parse(
            """
            TIMESTAMP,ContextTokens,GeneratedTokens
            2023-11-16 23:59:59.9999999,4808,10
            2023-11-17 00:00:00.0000001,3180,8
            2023-11-17 00:00:01,91,1
            2024-03-01 00:00:00.5,5,2
            """, .azure)
        #expect(rows.map(\.offsetNanos) == [0, 200, 1_000_000_100, 9_072_000_500_000_100])
        #expect(rows.map(\.inputTokens) == [4808, 3180, 91, 5])
        #expect(rows.map(\.outputTokens) == [10, 8, 1, 2])
        #expect(rows.map(\.line) == [2, 3, 4, 5])
        #expect(rows.allSatisfy { $0.hashIDs.isEmpty })
    }

    @Test func burstGPTFindsItsColumnsByNameAndSkipsFailedRequests() throws {
        let rows = try parse(
            """
            Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
            5,ChatGPT,472,18,490,Conversation log
            45.25,"GPT-4, large",1087,0,1087,Conversation log
            118,GPT-4,417,276,693,API log
            """, .burstgpt)
        #expect(
            rows == [
                ReplayRequest(offsetNanos: 0, inputTokens: 472, outputTokens: 18, line: 2),
                ReplayRequest(offsetNanos: 113_000_000_000, inputTokens: 417, outputTokens: 276, line: 4),
            ])
        let reordered = try parse(
            """
            Response tokens,Timestamp,Request tokens
            9,0.5,3
            """, .burstgpt)
        #expect(reordered == [ReplayRequest(offsetNanos: 0, inputTokens: 3, outputTokens: 9, line: 2)])
    }

    @Test func badRowsAreReportedWithTheirFileAndLine() {
        let ok = #"{"timestamp": 0, "input_length": 5, "output_length": 1}"#
        #expect(
            failure("\(ok)\n\n{\"timestamp\": 1, \"input_length\": 0, \"output_length\": 1}", .mooncake)
                == ReplayTraceError(
                    file: "t.txt", line: 3, message: "expected input_length to be a whole number ≥ 1, got 0"))
        #expect(failure("\(ok)\nnot json", .mooncake)?.description.hasPrefix("t.txt:2: expected a JSON object") == true)
        #expect(
            failure(#"{"timestamp": 0, "input_length": 5}"#, .mooncake)
                == ReplayTraceError(file: "t.txt", line: 1, message: "expected output_length (a whole number ≥ 1)"))
        #expect(
            failure(#"{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": [1, -2]}"#, .mooncake)?
                .message.hasPrefix("expected hash_ids to be a list of whole numbers ≥ 0") == true)
        #expect(
            failure(#"{"timestamp_ms": -3, "input_tokens": 5, "output_tokens": 1}"#, .jsonl)?.description
                == "t.txt:1: expected timestamp_ms to be a number of ms ≥ 0, got -3")
        #expect(
            failure("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,5,1\n16/11/2023 18:15,5,1", .azure)
                == ReplayTraceError(
                    file: "t.txt", line: 3,
                    message:
                        "expected TIMESTAMP to be a date and time such as 2023-11-16 18:15:46.6805900, got '16/11/2023 18:15'"
                ))
        #expect(
            failure("Timestamp,Model,Request tokens\n1,x,2", .burstgpt)
                == ReplayTraceError(
                    file: "t.txt", line: 1,
                    message:
                        "expected a header naming the columns Timestamp, Request tokens, Response tokens; no Response "
                        + "tokens in 'Timestamp,Model,Request tokens'"))
        #expect(
            failure("Timestamp,Request tokens,Response tokens\n1,2", .burstgpt)
                == ReplayTraceError(file: "t.txt", line: 2, message: "expected 3 comma-separated fields, got 2"))
        #expect(
            failure("", .jsonl)
                == ReplayTraceError(file: "t.txt", line: nil, message: "expected at least one request row, found none"))
    }

    /// Out of order is an error, not sorted away: `limit` takes the first rows of the file as written.
    @Test func rowsOutOfTimeOrderAreAnError() {
        #expect(
            failure(
                """
                {"timestamp_ms": 10, "input_tokens": 1, "output_tokens": 1}
                {"timestamp_ms": 10, "input_tokens": 1, "output_tokens": 1}

                {"timestamp_ms": 9, "input_tokens": 1, "output_tokens": 1}
                """, .jsonl)
                == ReplayTraceError(
                    file: "t.txt", line: 4,
                    message:
                        "expected rows in time order: this row is earlier than line 2 (sort the file by its timestamp)")
        )
    }
}
