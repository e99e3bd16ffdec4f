/// Builds the prompt text of a replayed request from its trace's block ids: requests whose leading
/// ids are equal get an identical leading text, so a server's prefix cache sees the trace's sharing.
/// `totalTokens` is the prompt's whole length; blocks past the ids given (all of them when there are
/// none) are blocks of their own, shared with no other request.
///
/// `WordBlockPrompts` counts one word as one token; a tokenizer's builder (exact token counts for a
/// model) conforms with the same method and is plugged in where the runner takes its builder
/// (`RunWiring.replayPromptBuilder`).
public protocol BlockPromptBuilding {
    mutating func prompt(hashIDs: [UInt64], totalTokens: Int) -> String
}

/// The fallback builder: blocks of `blockTokens` words (one word ≈ one token), each block's words
/// drawn from a fixed list by a generator seeded with its id, so equal ids give equal text. The text
/// is `totalTokens` words joined by single spaces (the last block cut short where the length ends
/// inside it).
public struct WordBlockPrompts: BlockPromptBuilding {
    /// Tokens in a block of the Mooncake format's `hash_ids`.
    public static let blockTokens = 512
    /// Blocks nobody shares get ids from a space of their own (trace ids never reach it).
    private var nextUniqueID: UInt64 = 1 << 63

    static let words: [String] = [
        "amber", "basin", "cedar", "delta", "ember", "fjord", "grove", "harbor", "island", "juniper", "kelp",
        "lagoon", "meadow", "nectar", "orchard", "pebble", "quarry", "river", "summit", "tundra", "upland",
        "valley", "willow", "yarrow", "zephyr", "anchor", "bramble", "canyon", "dune", "estuary", "fern", "glacier",
    ]

    public init() {}

    public mutating func prompt(hashIDs: [UInt64], totalTokens: Int) -> String {
        guard totalTokens > 0 else { return "" }
        let blocks = (totalTokens + Self.blockTokens - 1) / Self.blockTokens
        var text = ""
        text.reserveCapacity(totalTokens * 7)
        var written = 0
        for block in 0..<blocks {
            let id: UInt64
            if block < hashIDs.count {
                id = hashIDs[block]
            } else {
                id = nextUniqueID
                nextUniqueID &+= 1
            }
            var generator = ScenarioRandom(seed: id ^ 0x5DEE_CE66_D1CE_4E5B)
            let count = min(Self.blockTokens, totalTokens - written)
            for _ in 0..<count {
                if written > 0 { text += " " }
                text += Self.words[Int(generator.next() % UInt64(Self.words.count))]
                written += 1
            }
        }
        return text
    }
}

/// The prompts of a replay, one a row in order: the text from `builder` at the row's input length and
/// block ids, the row's output length as the prompt's own `maxTokens` (sent as `max_tokens`, with
/// `ignore_eos` where the dialect has it).
public enum ReplayPrompts {
    public static func prompts(for spec: ReplaySpec, builder: inout some BlockPromptBuilding) -> [Prompt] {
        spec.requests.map { request in
            Prompt(
                user: builder.prompt(hashIDs: request.hashIDs, totalTokens: request.inputTokens),
                maxTokens: request.outputTokens)
        }
    }
}

extension Scenario {
    /// This scenario with its workload's prompts made from its replay trace by `builder`; unchanged
    /// when its load is not a replay.
    public func withReplayPrompts(builder: inout some BlockPromptBuilding) -> Scenario {
        guard case .replay(let spec) = load.shape else { return self }
        var scenario = self
        scenario.workload.prompts = ReplayPrompts.prompts(for: spec, builder: &builder)
        return scenario
    }
}
