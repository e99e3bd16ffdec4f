import InferenceEngine

/// The inference loop's decisions, as a value: who waits, who holds one of `maxBatch` slots, how one iteration's
/// prefill budget is shared, and when a sequence leaves its slot. No locks, no model, no output: `BatchScheduler`
/// keeps one behind its lock and its thread applies what it returns.
///
/// Requests are tickets, numbered from 0 in submission order. Shutdown drains: the sequences holding a slot run to
/// their own end (their clients see `stop` or `length`); the waiting ones are handed back to be answered with an
/// error, and every later submission is refused.
struct SchedulingPolicy: Sendable, Equatable {
    typealias Ticket = Int

    /// What `submit` decided.
    enum Submission: Equatable, Sendable {
        case queued(Ticket)
        /// `maxWaiting` requests already wait.
        case queueFull
        /// `shutDown` was called.
        case shuttingDown
    }

    /// Where a running sequence is, as the loop sees it before an iteration.
    enum Phase: Equatable, Sendable {
        case prefilling(remaining: Int)
        case decoding
        /// Finished before this iteration (e.g. a prompt that leaves no room); retires without a step.
        case finished
        /// The client went away (or a stop sequence matched on the response side).
        case clientGone
    }

    /// What a running sequence does in an iteration.
    enum Step: Equatable, Sendable {
        /// Run this many prompt tokens.
        case prefill(tokens: Int)
        /// Run the pending token (and any drafts).
        case decode
        /// Sit this iteration out (the prefill budget is spent, or it is finished).
        case idle
        /// Stop it; it retires after the iteration.
        case cancel
    }

    /// How a sequence leaves its slot.
    enum Retirement: Equatable, Sendable {
        /// Its client is sent this finish reason.
        case finish(GenerationFinish.Reason)
        /// Its client is gone; nothing is sent.
        case drop
    }

    /// Slots: sequences run together.
    let maxBatch: Int
    /// Most requests waiting for a slot (nil: no limit).
    let maxWaiting: Int?
    /// Prompt tokens per iteration across all prefilling sequences (nil: a whole prompt in one pass).
    let prefillChunk: Int?
    /// Submitted, not yet admitted, oldest first.
    private(set) var waiting: [Ticket] = []
    /// Holding a slot, in admission order (the order they are stepped in).
    private(set) var running: [Ticket] = []
    private(set) var isShuttingDown = false
    private var nextTicket: Ticket = 0

    init(maxBatch: Int, maxWaiting: Int? = nil, prefillChunk: Int? = nil) {
        precondition(maxBatch >= 1, "a batch needs a slot")
        self.maxBatch = maxBatch
        self.maxWaiting = maxWaiting
        self.prefillChunk = prefillChunk
    }

    /// Shut down, and nothing left to run: the loop may end.
    var isDone: Bool { isShuttingDown && running.isEmpty && waiting.isEmpty }

    /// Nothing to do until a submission (or shutdown) arrives.
    var isIdle: Bool { running.isEmpty && waiting.isEmpty }

    mutating func submit() -> Submission {
        if isShuttingDown { return .shuttingDown }
        if let maxWaiting, waiting.count >= maxWaiting { return .queueFull }
        let ticket = nextTicket
        nextTicket += 1
        waiting.append(ticket)
        return .queued(ticket)
    }

    /// Moves the oldest waiting tickets into free slots and returns them, oldest first.
    mutating func admit() -> [Ticket] {
        let count = min(waiting.count, max(0, maxBatch - running.count))
        let admitted = Array(waiting.prefix(count))
        waiting.removeFirst(count)
        running += admitted
        return admitted
    }

    /// One iteration's steps for `phases` (one per sequence in `running` order). Prefilling sequences share the
    /// `prefillChunk` budget in admission order: each takes what it still needs, up to what is left; once the
    /// budget is spent the rest sit out. Decoding sequences always step.
    func plan(_ phases: [Phase]) -> [Step] {
        var budget = prefillChunk ?? .max
        return phases.map { phase in
            switch phase {
            case .prefilling(let remaining):
                guard budget > 0 else { return .idle }
                let tokens = min(remaining, budget)
                budget -= tokens
                return .prefill(tokens: tokens)
            case .decoding: return .decode
            case .finished: return .idle
            case .clientGone: return .cancel
            }
        }
    }

    /// Whether a sequence in `state` leaves its slot after an iteration, and what its client is sent: end of
    /// sequence or a stop → `stop`, the token or context limit → `length`, a cancelled client → nothing.
    static func retirement(of state: SequenceDecoder.State) -> Retirement? {
        switch state {
        case .prefilling, .decoding: return nil
        case .finished(.stop): return .finish(.stop)
        case .finished(.length): return .finish(.length)
        case .finished(.cancelled): return .drop
        }
    }

    /// Frees `ticket`'s slot (or forgets it while waiting).
    mutating func retire(_ ticket: Ticket) {
        running.removeAll { $0 == ticket }
        waiting.removeAll { $0 == ticket }
    }

    /// Starts the shutdown: refuses later submissions, keeps the running sequences (drained), and returns the
    /// waiting tickets, oldest first, for the caller to answer.
    mutating func shutDown() -> [Ticket] {
        isShuttingDown = true
        defer { waiting.removeAll() }
        return waiting
    }
}
