import Foundation
import Testing

@testable import LLMPerfCore

/// `WordBlockPrompts`: exact word counts, shared leading blocks give shared leading text, the rest is unique.
@Suite struct ReplayPromptsTests {
    func words(_ text: String) -> [Substring] { text.split(separator: " ", omittingEmptySubsequences: false) }

    @Test func aPromptHasExactlyItsLengthInWords() {
        var builder = WordBlockPrompts()
        for total in [1, 511, 512, 513, 1_500] {
            let text = builder.prompt(hashIDs: [1, 2, 3], totalTokens: total)
            #expect(words(text).count == total)
            #expect(!text.contains("  ") && !text.hasPrefix(" ") && !text.hasSuffix(" "))
        }
    }

    @Test func sharedLeadingIdsShareTheirTextAndNothingMore() {
        var builder = WordBlockPrompts()
        let a = words(builder.prompt(hashIDs: [7, 8, 9], totalTokens: 1_400))
        let b = words(builder.prompt(hashIDs: [7, 8, 10], totalTokens: 1_200))
        #expect(a.prefix(1_024) == b.prefix(1_024))
        #expect(a[1_024...].prefix(100) != b[1_024...].prefix(100))
        // The same ids from a fresh builder: the same text (a replay's prompts do not depend on the run).
        var other = WordBlockPrompts()
        #expect(words(other.prompt(hashIDs: [7, 8, 9], totalTokens: 1_400)) == a)
    }

    @Test func blocksWithoutIdsAreUniqueToTheirRequest() {
        var builder = WordBlockPrompts()
        let a = builder.prompt(hashIDs: [], totalTokens: 600)
        let b = builder.prompt(hashIDs: [], totalTokens: 600)
        #expect(a != b)
        #expect(words(a).prefix(64) != words(b).prefix(64))
        // Past its ids, a request's blocks are its own too.
        let c = words(builder.prompt(hashIDs: [7], totalTokens: 1_024))
        let d = words(builder.prompt(hashIDs: [7], totalTokens: 1_024))
        #expect(c.prefix(512) == d.prefix(512))
        #expect(c.suffix(512) != d.suffix(512))
    }

    @Test func everyRowBecomesAPromptWithItsOutputLength() {
        let spec = ReplaySpec(
            path: "t", format: .mooncake,
            requests: [
                ReplayRequest(offsetNanos: 0, inputTokens: 3, outputTokens: 9, hashIDs: [1]),
                ReplayRequest(offsetNanos: 1, inputTokens: 5, outputTokens: 2, hashIDs: [1]),
            ])
        var builder = WordBlockPrompts()
        let prompts = ReplayPrompts.prompts(for: spec, builder: &builder)
        #expect(prompts.map(\.maxTokens) == [9, 2])
        #expect(prompts.map { $0.user.split(separator: " ").count } == [3, 5])
        #expect(prompts[1].user.hasPrefix(prompts[0].user))
        #expect(WorkloadSpec(prompts: prompts).sendsIgnoreEOS(for: prompts[0]))
    }
}
