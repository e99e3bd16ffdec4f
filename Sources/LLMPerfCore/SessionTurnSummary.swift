import Foundation

/// A run of sessions (`workload.sessions`) by turn index: how the first token's latency grows as
/// a conversation's history does, and how much of each turn's prompt the server served from its
/// prefix cache. With a prefix cache, turn 3's TTFT barely grows with its history (only the new
/// message is prefilled); without one, it grows with every turn.
///
/// Warmup turns are left out; the TTFT quantiles count successful turns.
public struct SessionTurnSummary: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        /// The turn index (0: a session's first turn).
        public var turn: Int
        /// Measured turns with this index, and how many succeeded.
        public var requests: Int
        public var succeeded: Int
        /// TTFT of the successful ones, ms (nil: none had a first token).
        public var ttftP50Millis: Double?
        public var ttftP90Millis: Double?
        /// Mean history carried (tokens, as the client counted the earlier messages).
        public var historyTokensMean: Double?
        /// Mean prompt tokens, as the server's usage counted them (nil: no usage).
        public var promptTokensMean: Double?
        /// Prompt tokens the server said it served from its prefix cache (nil: no response said).
        public var cache: PromptCacheShare?
    }

    public var rows: [Row]
    /// Sessions with at least one measured turn.
    public var sessions: Int

    /// Folds traces in one at a time (any order), keeping the TTFTs of each turn index.
    public struct Tally: Sendable {
        struct Turn: Sendable {
            var requests = 0
            var succeeded = 0
            var ttfts: [Double] = []
            var history = 0
            var historyCount = 0
            var prompt = 0
            var promptCount = 0
            var cache = PromptCacheShare()
        }
        var turns: [Turn] = []
        var sessions = Set<Int>()

        public init() {}

        public mutating func add(_ trace: RequestTrace) {
            guard let turn = trace.session, !trace.isWarmup else { return }
            while turns.count <= turn.turn { turns.append(Turn()) }
            sessions.insert(turn.session)
            turns[turn.turn].requests += 1
            guard trace.succeeded else { return }
            turns[turn.turn].succeeded += 1
            if let ttft = Metric.ttft.value(of: trace) { turns[turn.turn].ttfts.append(ttft) }
            if let history = trace.historyTokens {
                turns[turn.turn].history += history
                turns[turn.turn].historyCount += 1
            }
            if let prompt = trace.inputTokens {
                turns[turn.turn].prompt += prompt
                turns[turn.turn].promptCount += 1
            }
            turns[turn.turn].cache.add(trace)
        }

        /// Nil when no measured trace belonged to a session.
        public var summary: SessionTurnSummary? {
            guard !sessions.isEmpty else { return nil }
            let rows = turns.enumerated().compactMap { index, turn -> Row? in
                guard turn.requests > 0 else { return nil }
                let sorted = turn.ttfts.sorted()
                return Row(
                    turn: index, requests: turn.requests, succeeded: turn.succeeded,
                    ttftP50Millis: sorted.isEmpty ? nil : Quantile.of(sorted: sorted, 0.5),
                    ttftP90Millis: sorted.isEmpty ? nil : Quantile.of(sorted: sorted, 0.9),
                    historyTokensMean: turn.historyCount == 0 ? nil : Double(turn.history) / Double(turn.historyCount),
                    promptTokensMean: turn.promptCount == 0 ? nil : Double(turn.prompt) / Double(turn.promptCount),
                    cache: turn.cache.requests > 0 ? turn.cache : nil)
            }
            return SessionTurnSummary(rows: rows, sessions: sessions.count)
        }
    }

    public init(rows: [Row], sessions: Int) {
        self.rows = rows
        self.sessions = sessions
    }

    /// Of a run's traces; nil when none belonged to a session.
    public init?(_ traces: some Sequence<RequestTrace>) {
        var tally = Tally()
        for trace in traces { tally.add(trace) }
        guard let summary = tally.summary else { return nil }
        self = summary
    }
}
