import Foundation

/// `workload.sessions`: multi-turn conversations. Each session sends its turns in order, each
/// carrying the conversation so far (the model's own earlier answers), and waits a think time
/// between a turn's end and the next turn's start. A session is the unit of concurrency
/// (`load.concurrency` = sessions active at once) and of arrival (`load.rate` = sessions
/// started per second).
public struct SessionSpec: Sendable, Equatable {
    public enum Turns: Sendable, Equatable {
        /// Each session draws its number of turns uniformly from the range (seeded).
        case range(ClosedRange<Int>)
        /// Each session replays one dataset conversation's user turns.
        case fromDataset
    }

    public enum History: Sendable, Equatable {
        /// Every earlier turn.
        case full
        /// The last N earlier turns (a user message and its answer each).
        case window(Int)
    }

    public var turns: Turns
    /// Think time between a turn's end and the next turn's start: a normal draw with this mean
    /// and standard deviation (ns), never below 0.
    public var thinkTimeMeanNanos: UInt64
    public var thinkTimeStddevNanos: UInt64
    public var history: History

    public init(
        turns: Turns = .range(3...8), thinkTimeMeanNanos: UInt64 = 0, thinkTimeStddevNanos: UInt64 = 0,
        history: History = .full
    ) {
        self.turns = turns
        self.thinkTimeMeanNanos = thinkTimeMeanNanos
        self.thinkTimeStddevNanos = thinkTimeStddevNanos
        self.history = history
    }

    /// The earlier exchanges a turn carries under this history rule.
    public func carried<Exchange>(_ exchanges: [Exchange]) -> ArraySlice<Exchange> {
        switch history {
        case .full: return exchanges[...]
        case .window(let n): return exchanges.suffix(max(0, n))
        }
    }
}

/// Which prompt each turn of each session sends, how many turns a session has and how long it
/// thinks after each: a pure function of the session's number, the turn and the seed (each
/// draw comes from its own `ScenarioRandom`, so the answer does not depend on the order the
/// questions are asked in).
///
/// With a prompt list (`prompts`, `prompt_file`, `synthetic`, a dataset's first turns), session s
/// has a number of turns drawn from the range and its turn t sends a prompt drawn from the list.
/// With `turns: from_dataset`, session s replays conversation `s % scripts.count`: its user turns
/// in order, each with its recorded output length when the workload asks for one.
public struct SessionPlan: Sendable, Equatable {
    public var spec: SessionSpec
    public var seed: UInt64
    /// The prompts a turn draws from (the workload's prompts).
    public var promptCount: Int
    /// `turns: from_dataset`: each conversation's user turns, as prompts without history.
    public var scripts: [[Prompt]]

    public init(spec: SessionSpec, seed: UInt64, promptCount: Int, scripts: [[Prompt]] = []) {
        self.spec = spec
        self.seed = seed
        self.promptCount = promptCount
        self.scripts = scripts
    }

    private func random(_ session: Int, _ turn: Int, _ stream: UInt64) -> ScenarioRandom {
        // One seed per (session, turn, what is drawn): a SplitMix-style mix of the three.
        var x = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(truncatingIfNeeded: session) &+ 1)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = x &+ 0x94D0_49BB_1331_11EB &* (UInt64(truncatingIfNeeded: turn) &+ 1) &+ stream
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return ScenarioRandom(seed: x ^ (x >> 31))
    }

    /// How many turns session `session` sends (at least 1).
    public func turnCount(session: Int) -> Int {
        switch spec.turns {
        case .range(let range):
            var r = random(session, 0, 1)
            let width = UInt64(max(0, range.upperBound - range.lowerBound) + 1)
            return max(1, range.lowerBound + Int(r.next(below: width)))
        case .fromDataset:
            guard !scripts.isEmpty else { return 1 }
            return max(1, scripts[session % scripts.count].count)
        }
    }

    /// The index in the workload's prompts of what turn `turn` of session `session` asks (prompt
    /// lists only; 0 with `turns: from_dataset`).
    public func promptIndex(session: Int, turn: Int) -> Int {
        guard case .range = spec.turns, promptCount > 0 else { return 0 }
        var r = random(session, turn, 2)
        return Int(r.next(below: UInt64(promptCount)))
    }

    /// What turn `turn` of session `session` asks, from the workload's `prompts` (its history is
    /// filled in by whoever keeps the conversation).
    public func prompt(session: Int, turn: Int, prompts: [Prompt]) -> Prompt {
        switch spec.turns {
        case .range:
            return prompts[promptIndex(session: session, turn: turn)]
        case .fromDataset:
            let script = scripts[session % scripts.count]
            return script[min(turn, script.count - 1)]
        }
    }

    /// The think time after turn `turn` of session `session` ends, before the next one starts (ns).
    public func thinkNanos(session: Int, turn: Int) -> UInt64 {
        guard spec.thinkTimeStddevNanos > 0 else { return spec.thinkTimeMeanNanos }
        var r = random(session, turn, 3)
        let draw = Double(spec.thinkTimeMeanNanos) + r.nextStandardNormal() * Double(spec.thinkTimeStddevNanos)
        return draw <= 0 ? 0 : UInt64(draw.rounded())
    }
}
