import Testing

@testable import InferenceEngine

@Suite struct NGramDrafterTests {
    let drafter = NGramDrafter()

    @Test func theLatestOccurrenceOfTheLongestSuffixWins() {
        // [1, 2, 3] occurs ending at 2 and at 6: the later one's continuation.
        #expect(drafter.draft(context: [1, 2, 3, 9, 1, 2, 3, 8, 5, 1, 2, 3], k: 2) == [8, 5])
        // A 3-gram match beats later 2- and 1-gram matches.
        #expect(drafter.draft(context: [1, 2, 3, 10, 2, 3, 11, 3, 12, 1, 2, 3], k: 2) == [10, 2])
        #expect(NGramDrafter(maxN: 2).draft(context: [1, 2, 3, 10, 2, 3, 11, 3, 12, 1, 2, 3], k: 2) == [11, 3])
        #expect(NGramDrafter(maxN: 1).draft(context: [1, 2, 3, 10, 2, 3, 11, 3, 12, 1, 2, 3], k: 2) == [12, 1])
        // At most k tokens.
        #expect(drafter.draft(context: [4, 5, 6, 7, 8, 9, 4, 5], k: 3) == [6, 7, 8])
        #expect(drafter.draft(context: [4, 5, 6, 7, 8, 9, 4, 5], k: 1) == [6])
    }

    @Test func shorterSuffixesAreTriedWhenLongerOnesDoNotOccur() {
        // [5, 6, 9] and [6, 9] do not occur earlier; [9] does.
        #expect(drafter.draft(context: [7, 8, 9, 4, 5, 6, 9], k: 3) == [4, 5, 6])
        // minN bounds the fallback.
        #expect(NGramDrafter(minN: 2, maxN: 3).draft(context: [7, 8, 9, 4, 5, 6, 9], k: 3) == [])
        #expect(NGramDrafter(minN: 2, maxN: 3).draft(context: [7, 6, 9, 4, 5, 6, 9], k: 3) == [4, 5, 6])
    }

    @Test func proposalsStopAtTheEndOfTheContext() {
        #expect(drafter.draft(context: [4, 5, 6, 4, 5], k: 5) == [6, 4, 5])
        // An occurrence may overlap the suffix: the continuation is what follows it, up to the end.
        #expect(drafter.draft(context: [7, 7, 7], k: 3) == [7])
        #expect(drafter.draft(context: [1, 2, 1, 2, 1, 2], k: 4) == [1, 2])
    }

    @Test func nothingMatches() {
        #expect(drafter.draft(context: [1, 2, 3, 4], k: 4) == [])
        #expect(drafter.draft(context: [1], k: 4) == [])
        #expect(drafter.draft(context: [], k: 4) == [])
        #expect(drafter.draft(context: [1, 2, 1], k: 0) == [])
        let proposal = drafter.propose(context: [1, 2, 1], count: 2, sampling: .greedy)
        #expect(proposal == SpeculativeDraft(tokens: [2, 1]))
    }

    @Test func longContexts() {
        // 4000 distinct tokens, then the first three again: the match is at the far end of the scan.
        let context = (0..<4000).map { Int32($0) } + [0, 1, 2]
        #expect(drafter.draft(context: context, k: 4) == [3, 4, 5, 6])
        // Against a naive search, on a long repetitive context.
        var random = UInt64(1)
        let noisy: [Int32] = (0..<3000).map { _ in
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int32(random >> 61)
        }
        for end in stride(from: 1, through: noisy.count, by: 97) {
            let c = Array(noisy[..<end])
            #expect(drafter.draft(context: c, k: 5) == naive(c, k: 5), "context of \(end)")
        }
    }

    /// Tries n = maxN…minN, scanning every earlier position for the latest occurrence.
    func naive(_ c: [Int32], k: Int) -> [Int32] {
        for n in stride(from: drafter.maxN, through: drafter.minN, by: -1) where c.count > n {
            let suffix = Array(c[(c.count - n)...])
            for end in stride(from: c.count - 2, through: n - 1, by: -1) where Array(c[(end - n + 1)...end]) == suffix {
                return Array(c[(end + 1)..<min(c.count, end + 1 + k)])
            }
        }
        return []
    }
}

@Suite struct SpeculationModeTests {
    @Test func parsesAndPrintsEveryMode() throws {
        let cases: [(String, SpeculationMode)] = [
            ("off", .off), ("ngram", .ngram), ("draft:/models/small.gguf", .draft(path: "/models/small.gguf")),
            ("draft:C:/a:b.gguf", .draft(path: "C:/a:b.gguf")), ("self:q4_0", .selfQuantized(.q4_0)),
            ("self:q8_0", .selfQuantized(.q8_0)),
        ]
        for (text, mode) in cases {
            #expect(try SpeculationMode(argument: text) == mode)
            #expect(mode.description == text)
            #expect(try SpeculationMode(argument: mode.description) == mode)
        }
        #expect(try SpeculationMode(argument: "NGram") == .ngram)
        #expect(try SpeculationMode(argument: "SELF:Q8_0") == .selfQuantized(.q8_0))
        #expect(try SpeculationMode(argument: "Draft:/Models/X.gguf") == .draft(path: "/Models/X.gguf"))
        #expect(!SpeculationMode.off.isEnabled && SpeculationMode.ngram.isEnabled)
        #expect(SpeculationMode.selfQuantized(.q4_0).needsDraftModel && !SpeculationMode.ngram.needsDraftModel)
    }

    @Test func rejectsOtherText() {
        func message(_ text: String) -> String {
            do {
                _ = try SpeculationMode(argument: text)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(
            message("self:q5_k")
                == "unsupported self-draft weight format 'q5_k' in 'self:q5_k': expected self:q4_0 or self:q8_0")
        #expect(message("self:f32").contains("unsupported self-draft weight format 'f32'"))
        #expect(message("self:").contains("unsupported self-draft weight format ''"))
        #expect(message("draft:") == "speculation mode 'draft:' needs a model path: draft:PATH")
        for text in ["", "on", "ngram:3", "medusa", " off"] {
            #expect(
                message(text)
                    == "unknown speculation mode '\(text)': expected off, ngram, draft:PATH, self:q4_0 or self:q8_0")
        }
    }
}
