import Foundation

public struct WorkloadSpec: Sendable, Equatable {
    /// Every prompt the run cycles through, resolved from `prompts`, `prompt_file` and
    /// `synthetic` (in that order), with `system` applied.
    public var prompts: [Prompt]
    public var maxTokens: Int?
    public var temperature: Double?
    public var seed: Int?
    public var stream: Bool
    /// Ask for `usage` in the stream (`stream_options.include_usage`).
    public var includeUsage: Bool
    /// `extra_body`: further fields added to every request body, in order (never one that
    /// llmperf sets itself).
    public var extraBody: [RequestBodyField]
    /// `reasoning.effort`: how hard a reasoning model should think (OpenAI chat's
    /// `reasoning_effort`); nil leaves it to the server.
    public var reasoningEffort: ReasoningEffort?
    /// `reasoning.budget_tokens`: the thinking budget (Anthropic's `thinking.budget_tokens`).
    public var reasoningBudgetTokens: Int?
    /// `reasoning:` was given at all (Ollama's `think: true`, or its effort level when `effort` is set).
    public var reasoningRequested: Bool
    /// `tools`: OpenAI-style function definitions (`{type: function, function: {name, ...}}`)
    /// sent with every request, so tool-calling traffic can be measured.
    public var tools: [RequestBodyValue]
    /// `tool_choice`: `auto`, `none`, `required`, or `{type: function, function: {name}}`.
    public var toolChoice: RequestBodyValue?
    /// `batch`: inputs per request (the embeddings API). The request for prompt `i` sends prompts
    /// `i, i+1, …, i+batch−1`, wrapping around the list (see `batchPrompts(startingAt:)`).
    public var batch: Int
    /// `sessions`: multi-turn conversations (nil: every request stands alone).
    public var sessions: SessionSpec?
    /// `sessions.turns: from_dataset`: each dataset conversation's user turns, in order.
    public var sessionScripts: [[Prompt]] = []
    /// `cache_bust`: a nonce before each prompt so a server's prefix cache, warmed by an earlier
    /// run, cannot serve this one (see `CacheBust`).
    public var cacheBust: CacheBust = .none
    /// The loaded tokenizer the client counts with (set by the runner from `tokenizer`; nil: the
    /// word rule for histories, the chunks for answers without usage).
    public var tokenCounter: TokenCounter?
    /// `tokenizer`: what counts tokens (`words` when absent: today's approximation, so existing scenarios send what
    /// they sent).
    public var tokenizer: TokenizerChoice = .words
    /// `synthetic`, and where its prompts sit in `prompts`: with an exact tokenizer the runner rewrites their text
    /// (`ExactSyntheticPrompts`), keeping everything else about them.
    public var synthetic: SyntheticPromptSpec?
    public var syntheticPromptIndices: Range<Int>?
    /// `dataset`: where the prompts (or the session scripts) came from, with the file's digest and
    /// what was skipped; nil when they came from `prompts`, `prompt_file` or `synthetic`.
    public var dataset: DatasetSpec?

    public init(
        prompts: [Prompt], maxTokens: Int? = nil, temperature: Double? = nil, seed: Int? = nil, stream: Bool = true,
        includeUsage: Bool = true, extraBody: [RequestBodyField] = [], reasoningEffort: ReasoningEffort? = nil,
        tools: [RequestBodyValue] = [], toolChoice: RequestBodyValue? = nil
    ) {
        self.prompts = prompts
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.seed = seed
        self.stream = stream
        self.includeUsage = includeUsage
        self.extraBody = extraBody
        self.reasoningEffort = reasoningEffort
        self.reasoningBudgetTokens = nil
        self.reasoningRequested = reasoningEffort != nil
        self.tools = tools
        self.toolChoice = toolChoice
        self.batch = 1
    }

    /// The plan of this workload's sessions (nil without `sessions`); its seed is the workload's.
    public var sessionPlan: SessionPlan? {
        sessions.map {
            SessionPlan(
                spec: $0, seed: UInt64(bitPattern: Int64(seed ?? 1)), promptCount: prompts.count,
                scripts: sessionScripts)
        }
    }

    /// The inputs of the request for prompt `index`: `batch` prompts from it on, wrapping around
    /// the list (so every prompt leads a request once per cycle, and a batch larger than the list
    /// repeats prompts).
    public func batchPrompts(startingAt index: Int) -> [Prompt] {
        guard !prompts.isEmpty else { return [] }
        return (0..<max(1, batch)).map { prompts[(index + $0) % prompts.count] }
    }
}

/// `workload.reasoning.effort`.
public enum ReasoningEffort: String, Sendable, Equatable, CaseIterable {
    case low
    case medium
    case high
}
