import Testing

@testable import InferenceServer

/// The scheduler's decisions without a model or a thread: admission, the prefill budget, retirement, shutdown.
@Suite("BatchScheduler policy")
struct SchedulingPolicyTests {
    @Test func admitsFirstComeFirstServedIntoFreeSlots() {
        var policy = SchedulingPolicy(maxBatch: 2)
        #expect((0..<5).map { _ in policy.submit() } == (0..<5).map { .queued($0) })
        #expect(policy.admit() == [0, 1])
        #expect(policy.running == [0, 1] && policy.waiting == [2, 3, 4])
        #expect(policy.admit() == [])  // no free slot
        policy.retire(1)
        #expect(policy.admit() == [2])
        #expect(policy.running == [0, 2] && policy.waiting == [3, 4])
        policy.retire(0)
        policy.retire(2)
        #expect(policy.admit() == [3, 4])
        #expect(policy.running == [3, 4] && policy.waiting.isEmpty)
    }

    @Test func oneSlotServesOneAtATime() {
        var policy = SchedulingPolicy(maxBatch: 1)
        _ = policy.submit()
        _ = policy.submit()
        #expect(policy.admit() == [0])
        #expect(policy.admit() == [])
        policy.retire(0)
        #expect(policy.admit() == [1])
    }

    @Test func refusesBeyondMaxWaitingOnlyWhileTheyWait() {
        var policy = SchedulingPolicy(maxBatch: 1, maxWaiting: 2)
        #expect(policy.submit() == .queued(0))
        #expect(policy.submit() == .queued(1))
        #expect(policy.submit() == .queueFull)
        #expect(policy.waiting == [0, 1])
        // Admission frees a waiting place; the refused request took no ticket.
        #expect(policy.admit() == [0])
        #expect(policy.submit() == .queued(2))
        #expect(policy.submit() == .queueFull)
    }

    @Test func prefillBudgetIsSharedInAdmissionOrder() {
        let policy = SchedulingPolicy(maxBatch: 8, prefillChunk: 8)
        // The first takes what it needs, the second what is left, the third sits out; decoding always steps.
        #expect(
            policy.plan([.prefilling(remaining: 3), .decoding, .prefilling(remaining: 10), .prefilling(remaining: 2)])
                == [.prefill(tokens: 3), .decode, .prefill(tokens: 5), .idle])
        // A prompt longer than the chunk runs a chunk per iteration.
        #expect(policy.plan([.prefilling(remaining: 20)]) == [.prefill(tokens: 8)])
        #expect(policy.plan([.prefilling(remaining: 8), .prefilling(remaining: 1)]) == [.prefill(tokens: 8), .idle])
        // Without a chunk a whole prompt runs at once, every prefilling sequence in the same pass.
        let whole = SchedulingPolicy(maxBatch: 8)
        #expect(
            whole.plan([.prefilling(remaining: 300), .prefilling(remaining: 40)])
                == [.prefill(tokens: 300), .prefill(tokens: 40)])
    }

    @Test func finishedAndAbandonedSequencesDoNotStep() {
        let policy = SchedulingPolicy(maxBatch: 4, prefillChunk: 4)
        #expect(
            policy.plan([.clientGone, .finished, .prefilling(remaining: 2), .clientGone])
                == [.cancel, .idle, .prefill(tokens: 2), .cancel])
    }

    @Test func retiresOnStopLengthAndCancelledClient() {
        #expect(SchedulingPolicy.retirement(of: .prefilling) == nil)
        #expect(SchedulingPolicy.retirement(of: .decoding) == nil)
        #expect(SchedulingPolicy.retirement(of: .finished(.stop)) == .finish(.stop))
        #expect(SchedulingPolicy.retirement(of: .finished(.length)) == .finish(.length))
        #expect(SchedulingPolicy.retirement(of: .finished(.cancelled)) == .drop)
    }

    @Test func shutdownDrainsRunningAnswersWaitingAndRefusesNewcomers() {
        var policy = SchedulingPolicy(maxBatch: 2)
        for _ in 0..<4 { _ = policy.submit() }
        #expect(policy.admit() == [0, 1])
        #expect(!policy.isDone)
        #expect(policy.shutDown() == [2, 3])
        #expect(policy.waiting.isEmpty && policy.running == [0, 1])
        #expect(policy.submit() == .shuttingDown)
        #expect(policy.admit() == [])
        policy.retire(0)
        #expect(!policy.isDone)
        policy.retire(1)
        #expect(policy.isDone)
        // Idle when shut down: done at once.
        var idle = SchedulingPolicy(maxBatch: 1)
        #expect(!idle.isDone)
        #expect(idle.shutDown() == [])
        #expect(idle.isDone)
    }
}
