import LLMPerfCore
import LLMTokenizer

/// `workload.synthetic` with an exact tokenizer: each prompt of `SyntheticPromptGenerator.plan` is exactly its
/// length in tokens (its text alone: no BOS, no chat template), its first `shared_prefix_tokens` the text of its
/// group. A group's prefix and a prompt's own part come from their seeds (`groupSeed`, `promptSeed`), so a seed
/// always gives the same prompts; each prompt is checked by encoding it.
public enum ExactSyntheticPrompts {
    public struct LengthMismatch: Error, CustomStringConvertible {
        public var index: Int
        public var asked: Int
        public var got: Int

        public var description: String {
            "synthetic prompt \(index) encodes to \(got) tokens instead of \(asked): the tokenizer's pieces merge"
        }
    }

    public static func texts(for spec: SyntheticPromptSpec, seed: UInt64, text: ExactTokenText) throws -> [String] {
        let prefix = spec.sharedPrefixTokens
        let prefixes = (0..<max(1, spec.prefixGroups)).map { group in
            prefix > 0 ? text.text(tokens: prefix, seed: SyntheticPromptGenerator.groupSeed(seed, group: group)) : ""
        }
        return try SyntheticPromptGenerator.plan(for: spec, seed: seed).enumerated().map { index, plan in
            let own = text.text(
                tokens: plan.tokens - prefix, seed: SyntheticPromptGenerator.promptSeed(seed, index: index))
            let prompt = prefixes[plan.group ?? 0] + own
            let count = text.count(prompt)
            guard count == plan.tokens else { throw LengthMismatch(index: index, asked: plan.tokens, got: count) }
            return prompt
        }
    }
}
