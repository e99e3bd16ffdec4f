import Foundation

/// Deterministic prompts of roughly a given token length for `workload.synthetic`.
///
/// Rule: a prompt of n tokens is `round(n × 0.75)` words (at least one), the usual English
/// ratio of ~0.75 words per token; each prompt's n is drawn from a normal distribution with
/// the spec's mean and standard deviation (rounded, at least 1), and its words are drawn
/// uniformly from a fixed list of common words. Everything comes from one `ScenarioRandom`
/// seeded with the workload seed, so a seed always gives the same prompts.
///
/// With `shared_prefix_tokens`, the lengths and groups come from `plan(for:seed:)` instead, each group's prefix is
/// `round(prefix × 0.75)` words drawn from the group's own seed, and the rest of a prompt
/// `round((n − prefix) × 0.75)` words (at least one). With an exact tokenizer the runner builds the text from the
/// same plan (`ExactSyntheticPrompts`).
public enum SyntheticPromptGenerator {
    public static let wordsPerToken = 0.75

    /// One synthetic prompt's length in tokens and its prefix group (nil without shared prefixes).
    public struct Plan: Sendable, Equatable {
        public var tokens: Int
        public var group: Int?

        public init(tokens: Int, group: Int?) {
            self.tokens = tokens
            self.group = group
        }
    }

    /// Each prompt's length (normal with the spec's mean and standard deviation, rounded, at least 1, and at least
    /// the shared prefix and one token) and group (uniform over `prefixGroups`), from one `ScenarioRandom`.
    public static func plan(for spec: SyntheticPromptSpec, seed: UInt64) -> [Plan] {
        var random = ScenarioRandom(seed: seed)
        let prefix = max(0, spec.sharedPrefixTokens)
        return (0..<max(0, spec.count)).map { _ in
            var tokens = Double(spec.inputTokensMean)
            if spec.inputTokensStddev > 0 { tokens += random.nextStandardNormal() * Double(spec.inputTokensStddev) }
            let length = max(1, prefix + (prefix > 0 ? 1 : 0), Int(tokens.rounded()))
            let group = prefix > 0 ? Int(random.next(below: UInt64(max(1, spec.prefixGroups)))) : nil
            return Plan(tokens: length, group: group)
        }
    }

    /// The seed of a prefix group's text, and of a prompt's own text after it: the same in the word and the exact
    /// builders.
    public static func groupSeed(_ seed: UInt64, group: Int) -> UInt64 {
        seed ^ (0xA5A5_5A5A_0000_0000 &+ UInt64(group) &* 0x9E37_79B9)
    }

    public static func promptSeed(_ seed: UInt64, index: Int) -> UInt64 {
        seed ^ (0x5A5A_A5A5_0000_0000 &+ UInt64(index) &* 0xC2B2_AE35)
    }

    public static func prompts(for spec: SyntheticPromptSpec, seed: UInt64) -> [Prompt] {
        if spec.sharedPrefixTokens > 0 { return prefixedPrompts(for: spec, seed: seed) }
        var random = ScenarioRandom(seed: seed)
        var prompts: [Prompt] = []
        prompts.reserveCapacity(max(0, spec.count))
        for _ in 0..<max(0, spec.count) {
            var tokens = Double(spec.inputTokensMean)
            if spec.inputTokensStddev > 0 {
                tokens += random.nextStandardNormal() * Double(spec.inputTokensStddev)
            }
            let tokenCount = max(1, Int(tokens.rounded()))
            let wordCount = max(1, Int((Double(tokenCount) * wordsPerToken).rounded()))
            var words: [String] = []
            words.reserveCapacity(wordCount)
            for _ in 0..<wordCount {
                words.append(vocabulary[Int(random.next(below: UInt64(vocabulary.count)))])
            }
            prompts.append(Prompt(user: words.joined(separator: " ")))
        }
        return prompts
    }

    private static func words(_ count: Int, seed: UInt64) -> String {
        var random = ScenarioRandom(seed: seed)
        return (0..<max(1, count)).map { _ in vocabulary[Int(random.next(below: UInt64(vocabulary.count)))] }
            .joined(separator: " ")
    }

    private static func prefixedPrompts(for spec: SyntheticPromptSpec, seed: UInt64) -> [Prompt] {
        let prefixWords = Int((Double(spec.sharedPrefixTokens) * wordsPerToken).rounded())
        let prefixes = (0..<max(1, spec.prefixGroups)).map { words(prefixWords, seed: groupSeed(seed, group: $0)) }
        return plan(for: spec, seed: seed).enumerated().map { index, plan in
            let rest = Int((Double(plan.tokens - spec.sharedPrefixTokens) * wordsPerToken).rounded())
            return Prompt(user: prefixes[plan.group ?? 0] + " " + words(rest, seed: promptSeed(seed, index: index)))
        }
    }

    static let vocabulary: [String] = [
        "time", "year", "people", "way", "day", "man", "thing", "woman", "life", "child", "world", "school",
        "state", "family", "student", "group", "country", "problem", "hand", "part", "place", "case", "week",
        "company", "system", "program", "question", "work", "government", "number", "night", "point", "home",
        "water", "room", "mother", "area", "money", "story", "fact", "month", "lot", "right", "study", "book",
        "eye", "job", "word", "business", "issue", "side", "kind", "head", "house", "service", "friend",
        "father", "power", "hour", "game", "line", "end", "member", "law", "car", "city", "community", "name",
        "president", "team", "minute", "idea", "kid", "body", "information", "back", "parent", "face",
        "others", "level", "office", "door", "health", "person", "art", "war", "history", "party", "result",
        "change", "morning", "reason", "research", "girl", "guy", "moment", "air", "teacher", "force",
        "education",
    ]
}
