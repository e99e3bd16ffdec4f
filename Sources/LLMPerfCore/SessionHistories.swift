import Foundation

/// The conversations of a session run as they grow: for each active session, the exchanges so
/// far (the user's turns and the model's actual answers). The transport asks it for each turn's
/// prompt and tells it each answer; a session's history is dropped once its last turn is told.
/// Any thread (one lock; a session's turns never overlap, so the lock is never contended by one
/// session's own turns).
public final class SessionHistories: @unchecked Sendable {
    public let plan: SessionPlan
    public let prompts: [Prompt]
    /// Tokens of a text by the workload's count (its tokenizer, or the approximate word rule).
    private let countTokens: @Sendable (String) -> Int
    private let lock = NSLock()
    private var conversations: [Int: [Exchange]] = [:]

    private struct Exchange {
        var exchange: ChatExchange
        var tokens: Int
    }

    public init(plan: SessionPlan, prompts: [Prompt], countTokens: @escaping @Sendable (String) -> Int) {
        self.plan = plan
        self.prompts = prompts
        self.countTokens = countTokens
    }

    /// Sessions whose history is held (for tests of the bound).
    public var activeCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return conversations.count
    }

    /// The prompt of `turn`, carrying the conversation so far under the plan's history rule, and
    /// the tokens of that history.
    public func prompt(for turn: SessionTurn) -> (prompt: Prompt, historyTokens: Int) {
        var prompt = plan.prompt(session: turn.session, turn: turn.turn, prompts: prompts)
        lock.lock()
        let earlier = conversations[turn.session] ?? []
        lock.unlock()
        let carried = plan.spec.carried(earlier)
        prompt.history = carried.map(\.exchange)
        return (prompt, carried.reduce(0) { $0 + $1.tokens })
    }

    /// Records what turn `turn` asked and the model answered (`answerTokens` as the response
    /// counted them), or ends the session when the turn failed or was its last.
    public func record(_ turn: SessionTurn, user: String, answer: String, answerTokens: Int, succeeded: Bool) {
        let last = !succeeded || turn.turn + 1 >= plan.turnCount(session: turn.session)
        let tokens = last ? 0 : countTokens(user) + answerTokens
        lock.lock()
        defer { lock.unlock() }
        if last {
            conversations[turn.session] = nil
        } else {
            conversations[turn.session, default: []].append(
                Exchange(exchange: ChatExchange(user: user, assistant: answer), tokens: tokens))
        }
    }
}

/// Token counts the profiler makes itself when it has no tokenizer.
public enum TokenEstimate {
    /// The approximate rule: words ÷ 0.75 (`SyntheticPromptGenerator.wordsPerToken`), rounded.
    @Sendable public static func words(_ text: String) -> Int {
        var words = 0
        var inWord = false
        for byte in text.utf8 {
            let space = byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
            if !space && !inWord { words += 1 }
            inWord = !space
        }
        return Int((Double(words) / SyntheticPromptGenerator.wordsPerToken).rounded())
    }
}
