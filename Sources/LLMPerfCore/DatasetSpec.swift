import Foundation

/// `workload.dataset`: prompts (and multi-turn scripts) read from a conversation dataset.
///
///     dataset: {path: datasets/sharegpt.json, format: sharegpt, sample: 200, seed: 7,
///               turns: first, output_tokens: from_dataset}
///
/// `turns: first` makes each conversation's first user turn one prompt (its system message kept);
/// `turns: all` makes each conversation a session script (`WorkloadSpec.sessionScripts`) and needs
/// `workload.sessions: {turns: from_dataset}`. Without `sample` every usable conversation is used,
/// in file order; with `sample: N`, N of them drawn without replacement in a seeded order.
public struct DatasetSpec: Sendable, Equatable {
    /// The path as written in the scenario (relative to the scenario file).
    public var path: String
    public var format: DatasetFormat
    public var sample: Int?
    public var seed: UInt64
    public var turns: DatasetTurns
    /// `output_tokens: from_dataset`: each request's length is its recorded answer's.
    public var outputTokensFromDataset: Bool
    /// CSV: the column holding the prompt (default `prompt`).
    public var promptColumn: String
    /// CSV: the column holding the recorded output length in tokens (default `output_tokens`).
    public var outputColumn: String
    /// CSV: a column holding a system message, if any.
    public var systemColumn: String?
    /// `workload.system`, given to the conversations that have no system message of their own.
    public var workloadSystem: String?
    /// SHA-256 (hex) of the file's bytes, for `Scenario.hash`.
    public var sha256: String
    /// Conversations (rows) in the file.
    public var conversationCount: Int
    /// Conversations used (after skips and sampling).
    public var usedCount: Int
    /// Conversations left out, by reason, in the order the reasons were first met.
    public var skipped: [DatasetSkip]

    public init(
        path: String, format: DatasetFormat, sample: Int? = nil, seed: UInt64 = 1, turns: DatasetTurns = .first,
        outputTokensFromDataset: Bool = false, promptColumn: String = "prompt", outputColumn: String = "output_tokens",
        systemColumn: String? = nil
    ) {
        self.path = path
        self.format = format
        self.sample = sample
        self.seed = seed
        self.turns = turns
        self.outputTokensFromDataset = outputTokensFromDataset
        self.promptColumn = promptColumn
        self.outputColumn = outputColumn
        self.systemColumn = systemColumn
        self.sha256 = ""
        self.conversationCount = 0
        self.usedCount = 0
        self.skipped = []
    }

    /// One line for the run's summary, e.g.
    /// `dataset datasets/sharegpt.json: 13 conversations, 10 used, 1 skipped (empty conversations: 1, first at line 88)`.
    public var summaryText: String {
        var text = "dataset \(path): \(conversationCount) conversations, \(usedCount) used"
        let skippedTotal = skipped.reduce(0) { $0 + $1.count }
        if skippedTotal > 0 {
            text += ", \(skippedTotal) skipped ("
            text += skipped.map { "\($0.reason): \($0.count), first at line \($0.firstLine)" }.joined(separator: "; ")
            text += ")"
        }
        return text
    }
}

/// `workload.dataset.format`.
public enum DatasetFormat: String, Sendable, Equatable, CaseIterable {
    /// `{"conversations": [{"from": "human" | "gpt" | "system", "value": …}, …]}`, as a JSON array or JSON Lines.
    case sharegpt
    /// `{"messages": [{"role": "system" | "user" | "assistant", "content": …}, …]}`, as JSON Lines or an array.
    case openAIChat = "openai-chat"
    /// `{"prompt": …, "system": …, "max_tokens" | "output_tokens": N}`, one per line.
    case jsonl
    /// A header row naming the columns, then one prompt a row.
    case csv

    /// Whether a record holds a conversation (several turns) rather than one prompt.
    public var isConversational: Bool { self == .sharegpt || self == .openAIChat }
}

/// `workload.dataset.turns`.
public enum DatasetTurns: String, Sendable, Equatable, CaseIterable {
    /// Each conversation's first user turn is one prompt.
    case first
    /// Each conversation is a session script of all its user turns.
    case all
}

/// Conversations left out of a dataset for one reason.
public struct DatasetSkip: Sendable, Equatable {
    public var reason: String
    public var count: Int
    /// The line the first such conversation starts at.
    public var firstLine: Int

    public init(reason: String, count: Int, firstLine: Int) {
        self.reason = reason
        self.count = count
        self.firstLine = firstLine
    }
}

/// A dataset that could not be read: the file, the line (and column) and what was expected, e.g.
/// `datasets/x.jsonl:17:1: expected an object with "conversations", got an array`.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        return text + ": " + message
    }
}
