import LLMPerfCore
import Testing

@testable import LLMPerfReport

@Suite struct CSVQuotingTests {
    @Test func plainFieldsStayBare() {
        #expect(CSVWriter.quoted("plain text") == "plain text")
        #expect(CSVWriter.quoted("") == "")
        #expect(CSVWriter.quoted("semi;colon 'single'") == "semi;colon 'single'")
    }

    @Test func commaQuoteAndLineBreaksAreQuoted() {
        #expect(CSVWriter.quoted("a,b") == "\"a,b\"")
        #expect(CSVWriter.quoted("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVWriter.quoted("\"") == "\"\"\"\"")
        #expect(CSVWriter.quoted("line1\nline2") == "\"line1\nline2\"")
        #expect(CSVWriter.quoted("line1\r\nline2") == "\"line1\r\nline2\"")
        #expect(CSVWriter.quoted("cr\ronly") == "\"cr\ronly\"")
    }

    @Test func recordsEndWithCRLF() {
        var csv = CSVWriter()
        csv.record(["a", "b,c", "d\"e"])
        csv.number(1.5)
        csv.number(nil)
        csv.integer(42)
        csv.endRecord()
        #expect(csv.text == "a,\"b,c\",\"d\"\"e\"\r\n1.5,,42\r\n")
    }

    @Test func requestRowQuotesTheErrorDetail() {
        let trace = RequestTrace(
            index: 3, startedAtNanos: 1_000_000, firstByteNanos: 2_500_000, endedAtNanos: 4_000_000,
            outcome: .failed(.http(status: 503), detail: "busy, \"retry\"\nlater"),
            connection: ConnectionInfo(reused: true, httpVersion: "2", remoteAddress: "[::1]:8080"), httpStatus: 503)
        let run = ReportRun(info: ReportFixtures.info(id: "r1", name: "x", openLoop: false), traces: [trace])
        let lines = CSVReport.requests([run]).components(separatedBy: "\r\n")
        #expect(lines.count == 3 && lines[2].isEmpty)
        #expect(
            lines[1]
                == "r1,3,false,0,,1000000,4000000,0,0,0,2.5,,,,,,3,0,,0,chunks,,http_503,503,"
                + "\"busy, \"\"retry\"\"\nlater\",true,2,[::1]:8080,,,,,,,,,,,,,,,,,")
        #expect(lines[0].split(separator: ",").count == CSVReport.requestColumns.count)
    }

    @Test func decimalText() {
        #expect(DecimalText.trimmed(0, fractionDigits: 6) == "0")
        #expect(DecimalText.trimmed(-0.0000001, fractionDigits: 6) == "0")
        #expect(DecimalText.trimmed(12.5, fractionDigits: 6) == "12.5")
        #expect(
            DecimalText.trimmed(-3.25, fractionDigits: 1) == "-3.3"
                || DecimalText.trimmed(-3.25, fractionDigits: 1) == "-3.2")
        #expect(DecimalText.trimmed(0.000123, fractionDigits: 6) == "0.000123")
        #expect(DecimalText.trimmed(1_234_567.000001, fractionDigits: 6) == "1234567.000001")
        #expect(DecimalText.trimmed(.nan, fractionDigits: 3) == "")
    }
}
