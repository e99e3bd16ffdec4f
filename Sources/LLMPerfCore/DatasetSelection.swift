import Foundation

/// Which of a dataset's conversations a run sends, in which order, and as what: a pure function
/// of the conversations and the spec (format, sample, seed, turns, output_tokens).
///
/// - With `output_tokens: from_dataset`, a conversation whose asked turn has no recorded answer
///   (`turns: first`: the first user turn; `turns: all`: any user turn) is skipped and counted:
///   its length cannot follow the dataset, and mixing in free-length requests would change what
///   is measured.
/// - Without `sample`: every usable conversation, in file order. With `sample: N`: N of them drawn
///   without replacement, in the order drawn (a seeded shuffle, `ScenarioRandom`); N larger than
///   the usable conversations is an error, never a silent repeat.
/// - `turns: first`: one prompt per conversation (its first user turn, the conversation's system
///   message as the prompt's). `turns: all`: one session script per conversation (every user turn,
///   each with the system message and its recorded length), and its first turn as the prompt.
public enum DatasetSelection {
    public struct Selected: Sendable, Equatable {
        public var prompts: [Prompt]
        public var scripts: [[Prompt]]
        /// The reader's skips and this selection's.
        public var skipped: [DatasetSkip]
    }

    public static func select(_ contents: DatasetReader.Contents, spec: DatasetSpec, path: String) -> Result<
        Selected, DatasetError
    > {
        var skips = DatasetReader.SkipTally(list: contents.skipped)
        var usable: [DatasetConversation] = []
        usable.reserveCapacity(contents.conversations.count)
        for conversation in contents.conversations {
            if spec.outputTokensFromDataset {
                let asked = spec.turns == .first ? conversation.turns.prefix(1) : conversation.turns[...]
                if asked.contains(where: { $0.answerTokens == nil }) {
                    let reason =
                        !spec.format.isConversational
                        ? "prompts without a recorded output length"
                        : spec.turns == .first
                            ? "conversations whose first user turn has no recorded answer"
                            : "conversations with a user turn that has no recorded answer"
                    skips.add(reason, line: conversation.line)
                    continue
                }
            }
            usable.append(conversation)
        }
        guard !usable.isEmpty else {
            let why = skips.list.map { "\($0.count) \($0.reason)" }.joined(separator: ", ")
            return .failure(DatasetError(file: path, message: "no usable conversations (skipped: \(why))"))
        }
        if let sample = spec.sample {
            guard sample <= usable.count else {
                let skipped = skips.list.reduce(0) { $0 + $1.count }
                return .failure(
                    DatasetError(
                        file: path,
                        message:
                            "sample: \(sample) is more than the \(usable.count) usable conversations "
                            + "(\(contents.recordCount) in the file, \(skipped) skipped); lower sample or leave it "
                            + "out to use them all"))
            }
            var random = ScenarioRandom(seed: StatisticsRandom.seed(spec.seed, stream: "dataset.sample"))
            for i in 0..<sample {
                let j = i + Int(random.next(below: UInt64(usable.count - i)))
                usable.swapAt(i, j)
            }
            usable.removeSubrange(sample...)
        }
        var selected = Selected(prompts: [], scripts: [], skipped: skips.list)
        selected.prompts.reserveCapacity(usable.count)
        for conversation in usable {
            let script = conversation.turns.prefix(spec.turns == .first ? 1 : conversation.turns.count).map {
                Prompt(
                    system: conversation.system, user: $0.user,
                    maxTokens: spec.outputTokensFromDataset ? $0.answerTokens : nil)
            }
            selected.prompts.append(script[0])
            if spec.turns == .all { selected.scripts.append(script) }
        }
        return .success(selected)
    }
}
