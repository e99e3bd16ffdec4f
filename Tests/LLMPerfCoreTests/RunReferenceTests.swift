import Foundation
import Testing

@testable import LLMPerfCore

@Suite struct RunReferenceTests {
    static func at(_ minute: Int) -> Date { Date(timeIntervalSince1970: 1_795_000_000 + Double(minute) * 60) }

    /// Newest last: chat (3 runs, one with variants), other/baseline, a labelled run.
    let runs: [RunCandidate] = [
        RunCandidate(id: "r1a2b3c", name: "chat", startedAt: at(0)),
        RunCandidate(id: "r1a9f00", name: "chat", labels: ["main"], startedAt: at(1)),
        RunCandidate(id: "r7f3a2c", name: "chat", labels: ["pr-123"], startedAt: at(2)),
        RunCandidate(id: "r7f9911", name: "lab", variant: "baseline", labels: ["main"], startedAt: at(3)),
        RunCandidate(id: "r5d5d5d", name: "lab", variant: "short", startedAt: at(3)),
        RunCandidate(id: "r0000aa", name: "other", variant: "baseline", startedAt: at(4)),
    ]

    func resolve(_ text: String) throws -> String {
        try RunReference.parse(text).resolve(in: runs).id
    }

    func message(_ text: String) -> String {
        do {
            let id = try resolve(text)
            return "resolved to \(id)"
        } catch let error as RunReferenceError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func parses() throws {
        #expect(try RunReference.parse("r7f3a2c") == .id(prefix: "r7f3a2c"))
        #expect(try RunReference.parse("r7f") == .id(prefix: "r7f"))
        #expect(try RunReference.parse("chat@latest") == .named(name: "chat", variant: nil, offset: 0))
        #expect(try RunReference.parse("chat~2") == .named(name: "chat", variant: nil, offset: 2))
        #expect(try RunReference.parse("lab/short") == .named(name: "lab", variant: "short", offset: 0))
        #expect(try RunReference.parse("lab/short~1") == .named(name: "lab", variant: "short", offset: 1))
        #expect(try RunReference.parse("label:pr-123") == .label("pr-123", offset: 0))
        #expect(try RunReference.parse("label:main~1") == .label("main", offset: 1))
        #expect(try RunReference.parse("baseline") == .word("baseline"))
        #expect(try RunReference.parse("rx") == .word("rx"))
    }

    @Test(arguments: [
        ("", "empty run reference; expected an id (r7f3a2c), name@latest, name~N, label:X or run/variant"),
        ("chat~x", "bad run reference 'chat~x': expected a number after '~', e.g. chat~1"),
        ("chat~-1", "bad run reference 'chat~-1': expected a number after '~', e.g. chat~1"),
        ("chat@first", "bad run reference 'chat@first': only '@latest' is supported after '@', e.g. chat@latest"),
        ("@latest", "bad run reference '@latest': expected a run name before '@'"),
        ("label:", "bad run reference 'label:': expected a label after 'label:', e.g. label:pr-123"),
        ("lab/", "bad run reference 'lab/': expected run/variant, e.g. chat-latency/baseline"),
    ])
    func parseErrors(text: String, expected: String) {
        #expect(throws: RunReferenceError(message: expected)) { try RunReference.parse(text) }
    }

    @Test func resolvesIdsAndPrefixes() throws {
        #expect(try resolve("r7f3a2c") == "r7f3a2c")
        #expect(try resolve("r7f3") == "r7f3a2c")
        #expect(try resolve("r5d") == "r5d5d5d")
        #expect(
            message("r7f")
                == "run id prefix 'r7f' is ambiguous: r7f9911 (lab/baseline), r7f3a2c (chat)")
        #expect(
            message("rbeef")
                == "no run has an id starting with 'rbeef'; recent runs: r0000aa other/baseline (2026-11-18 11:10), "
                + "r7f9911 lab/baseline (2026-11-18 11:09), r5d5d5d lab/short (2026-11-18 11:09), "
                + "r7f3a2c chat (2026-11-18 11:08), r1a9f00 chat (2026-11-18 11:07), … (1 more)")
    }

    @Test func resolvesLatestAndOffsets() throws {
        #expect(try resolve("chat@latest") == "r7f3a2c")
        #expect(try resolve("chat~0") == "r7f3a2c")
        #expect(try resolve("chat~2") == "r1a2b3c")
        #expect(message("chat~3") == "'chat~3' does not exist: 'chat' has 3 runs (chat~0 to chat~2)")
        #expect(try resolve("lab@latest") == "r7f9911")  // same start: the larger id wins
        #expect(try resolve("lab/short") == "r5d5d5d")
        #expect(try resolve("chat") == "r7f3a2c")
        #expect(
            message("chta@latest").hasPrefix("no run of 'chta'; did you mean 'chat'?; recent runs: r0000aa"))
    }

    @Test func resolvesLabels() throws {
        #expect(try resolve("label:pr-123") == "r7f3a2c")
        #expect(try resolve("label:main") == "r7f9911")
        #expect(try resolve("label:main~1") == "r1a9f00")
        #expect(
            message("label:mian") == "no run has label 'mian'; did you mean 'label:main'?; labels: main, pr-123")
    }

    @Test func resolvesVariantNames() throws {
        #expect(try resolve("short") == "r5d5d5d")
        #expect(
            message("baseline")
                == "'baseline' is ambiguous: it names runs in different ways; write one of: lab/baseline, "
                + "other/baseline")
        #expect(
            message("baseline@latest").hasPrefix(
                "no run of 'baseline'; 'baseline' is a variant: write other/baseline; recent runs: "))
        #expect(message("nothing").hasPrefix("no run named 'nothing'; recent runs: r0000aa other/baseline"))
        #expect(message("shrt").hasPrefix("no run named 'shrt'; did you mean 'short'?"))
        #expect(
            (try? RunReference.word("x").resolve(in: [])) == nil
                && message2("x", in: []) == "no run named 'x'; there are no runs")
    }

    func message2(_ text: String, in candidates: [RunCandidate]) -> String {
        do {
            _ = try RunReference.parse(text).resolve(in: candidates)
            return "resolved"
        } catch {
            return error.message
        }
    }

    @Test func idLikeNamesFallBackToNames() throws {
        let named = runs + [RunCandidate(id: "r9999999", name: "reed", startedAt: Self.at(9))]
        #expect(try RunReference.parse("reed") == .id(prefix: "reed"))
        #expect(try RunReference.parse("reed").resolve(in: named).id == "r9999999")
    }
}
