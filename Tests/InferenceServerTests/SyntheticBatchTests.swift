import Foundation
import Testing

@testable import InferenceServer

/// The synthetic engine as a server with a known capacity: `--max-running B` (at most B answers generate,
/// the rest wait first come first served) and `--itl-per-running-ms K` (each token interval grows by K per
/// answer generating). Timing checks are lower bounds the engine's own deadlines guarantee (it sleeps until
/// them), so a busy machine cannot break them; what the engine holds is read from its own load, polled.
@Suite("Synthetic engine batch")
struct SyntheticBatchTests {
    /// One answer read to its end: when each token arrived (CLOCK_MONOTONIC) and when it finished.
    struct Reading: Sendable {
        var arrival: UInt64
        var tokenTimes: [UInt64] = []
        var finished: UInt64 = 0
    }

    static func request(_ id: String, tokens: Int, arrival: UInt64) -> GenerationRequest {
        GenerationRequest(
            requestID: id, prompt: PreparedPrompt(text: "ping", tokenCount: 1), maxTokens: tokens,
            maxTokensRequested: true, temperature: nil, topP: nil, seed: nil, arrivalNanos: arrival)
    }

    static func read(_ engine: SyntheticEngine, _ id: String, tokens: Int) async throws -> Reading {
        var reading = Reading(arrival: MonotonicClock.nowNanos())
        for try await batch in engine.generate(request(id, tokens: tokens, arrival: reading.arrival)) {
            let now = MonotonicClock.nowNanos()
            reading.tokenTimes += Array(repeating: now, count: batch.pieces.count)
            if batch.finish != nil { reading.finished = now }
        }
        return reading
    }

    /// Polls the engine's own load (not a duration) for at most a minute.
    static func waitFor(_ engine: SyntheticEngine, _ load: SchedulerLoad) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while engine.schedulerLoad != load {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("the engine never held \(load); it holds \(engine.schedulerLoad)")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    static let ms: UInt64 = 1_000_000

    @Test func beyondMaxRunningAnswersWaitInArrivalOrderAndTheirTTFTStartsAtTheSlot() async throws {
        let engine = SyntheticEngine(configuration: .init(ttftMs: 10, itlMs: 5, maxRunning: 1))
        async let first = Self.read(engine, "a", tokens: 4)
        try await Self.waitFor(engine, SchedulerLoad(waiting: 0, running: 1))
        async let second = Self.read(engine, "b", tokens: 4)
        try await Self.waitFor(engine, SchedulerLoad(waiting: 1, running: 1))
        async let third = Self.read(engine, "c", tokens: 4)
        try await Self.waitFor(engine, SchedulerLoad(waiting: 2, running: 1))
        let (a, b, c) = try await (first, second, third)
        #expect([a, b, c].allSatisfy { $0.tokenTimes.count == 4 })
        // One at a time, in arrival order: each starts only after the one before it finished, and its first
        // token comes a whole ttft after that (not after its own arrival).
        #expect(b.tokenTimes[0] >= a.finished + 10 * Self.ms, "b began \(b.tokenTimes[0]), a ended \(a.finished)")
        #expect(c.tokenTimes[0] >= b.finished + 10 * Self.ms, "c began \(c.tokenTimes[0]), b ended \(b.finished)")
        try await Self.waitFor(engine, SchedulerLoad(waiting: 0, running: 0))
    }

    @Test func eachTokenIntervalGrowsWithTheAnswersGenerating() async throws {
        let engine = SyntheticEngine(configuration: .init(ttftMs: 40, itlMs: 4, itlPerRunningMs: 6))
        // Two together: both are generating before either's first token is due (ttft 40 ms), so each first
        // interval is 4 + 6·2 = 16 ms; alone, 4 + 6 = 10 ms. Without the option it would be 4 ms.
        async let one = Self.read(engine, "a", tokens: 3)
        async let two = Self.read(engine, "b", tokens: 3)
        let pair = try await [one, two]
        for reading in pair {
            #expect(reading.tokenTimes[1] >= reading.arrival + (40 + 16) * Self.ms)
        }
        let alone = try await Self.read(engine, "c", tokens: 3)
        #expect(alone.tokenTimes[1] >= alone.arrival + (40 + 10) * Self.ms)
        #expect(alone.tokenTimes[2] >= alone.arrival + (40 + 20) * Self.ms)
        #expect(engine.schedulerLoad == SchedulerLoad(waiting: 0, running: 0))
    }

    @Test func aCancelledOrAbandonedAnswerGivesItsSlotBack() async throws {
        let engine = SyntheticEngine(configuration: .init(ttftMs: 0, itlMs: 5, maxRunning: 1))
        // Running: a long answer, read until its first token.
        let running = Task {
            var tokens = 0
            for try await batch in engine.generate(
                Self.request("a", tokens: 100_000, arrival: MonotonicClock.nowNanos()))
            {
                tokens += batch.pieces.count
            }
            return tokens
        }
        try await Self.waitFor(engine, SchedulerLoad(waiting: 0, running: 1))
        // Waiting behind it, then cancelled while it waits: it leaves the queue.
        let waiting = Task { try await Self.read(engine, "b", tokens: 2) }
        try await Self.waitFor(engine, SchedulerLoad(waiting: 1, running: 1))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        try await Self.waitFor(engine, SchedulerLoad(waiting: 0, running: 1))
        // The running one cancelled: its slot is free.
        running.cancel()
        _ = try? await running.value
        try await Self.waitFor(engine, SchedulerLoad(waiting: 0, running: 0))
        // An answer read once and then dropped unread (the consumer went away): its slot comes back too.
        do {
            var iterator = engine.generate(Self.request("c", tokens: 100, arrival: MonotonicClock.nowNanos()))
                .makeAsyncIterator()
            _ = try await iterator.next()
            #expect(engine.schedulerLoad == SchedulerLoad(waiting: 0, running: 1))
        }
        try await Self.waitFor(engine, SchedulerLoad(waiting: 0, running: 0))
        // And the engine still serves, at once.
        let after = try await Self.read(engine, "d", tokens: 2)
        #expect(after.tokenTimes.count == 2)
    }
}
