import Testing

@testable import LLMPerfCore

@Suite("JSON quoting")
struct JSONQuotingTests {
    static let text = "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F} é→✓/"

    @Test func standardEscapes() {
        #expect(
            JSONQuoting.quoted(Self.text)
                == #""a\"b\\c\n\r\t\u0008\u000c\u0001\u001f é→✓/""#)
    }

    @Test func jsonEncoderEscapesAlsoBackspaceAndFormFeed() {
        var bytes: [UInt8] = [0x5B]
        JSONQuoting.appendQuoted(Self.text, to: &bytes, escapes: .jsonEncoder)
        #expect(String(decoding: bytes, as: UTF8.self) == #"["a\"b\\c\n\r\t\b\f\u0001\u001f é→✓/""#)
    }
}
