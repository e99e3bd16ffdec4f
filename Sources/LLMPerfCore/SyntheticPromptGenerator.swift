import Foundation

/// Deterministic prompts of roughly a given token length for `workload.synthetic`.
///
/// Rule: a prompt of n tokens is `round(n × 0.75)` words (at least one), the usual English
/// ratio of ~0.75 words per token; each prompt's n is drawn from a normal distribution with
/// the spec's mean and standard deviation (rounded, at least 1), and its words are drawn
/// uniformly from a fixed list of common words. Everything comes from one `ScenarioRandom`
/// seeded with the workload seed, so a seed always gives the same prompts.
public enum SyntheticPromptGenerator {
    public static let wordsPerToken = 0.75

    public static func prompts(for spec: SyntheticPromptSpec, seed: UInt64) -> [Prompt] {
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
