import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fixed set of worker threads that persists across calls and runs data-parallel loops.
///
/// Chunks are claimed from one atomic ticket (generation, chunk count and next chunk packed in a `UInt64`), and a
/// loop is finished when all its chunks are, not when every worker has checked in: when other processes keep a
/// worker off the CPU, the caller simply runs the chunks the worker has not claimed. Idle workers spin briefly
/// (decode issues thousands of small loops per second) and then sleep on a condition variable.
public final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in a loop, the caller included.
    public var threadCount: Int { core.threadCount }
    private let core: ThreadPoolCore

    /// Creates a pool of `threads` threads in total (the calling thread counts as one).
    public init(threads: Int) {
        core = ThreadPoolCore(threads: max(1, threads))
        for index in 1..<core.threadCount {
            let core = core
            let thread = Thread { core.workerLoop(index: index) }
            thread.name = "inference-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { core.stop() }

    /// Calls `body(chunk, threadIndex)` for every chunk in `0..<count`, spread over the pool, and returns when all
    /// are done. `threadIndex` is in `0..<threadCount` (0 is the caller) and can index per-thread scratch memory.
    public func parallelFor(_ count: Int, _ body: (_ chunk: Int, _ threadIndex: Int) -> Void) {
        core.parallelFor(count, body)
    }
}

/// The pool's shared state; the worker threads keep it alive until they have exited.
final class ThreadPoolCore: @unchecked Sendable {
    let threadCount: Int

    /// Bits 44…63: loop generation (wraps), 22…43: chunk count, 0…21: next chunk.
    private let ticket = Atomic<UInt64>(0)
    private let completed = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let callerLock = Mutex<Void>(())
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    /// Written only by the caller, before the ticket of its loop is published; read by a worker only after it
    /// claimed a chunk of that loop (the loop cannot finish, so the task cannot change, before the chunk is done).
    private var task: ((Int, Int) -> Void)?
    private var loops: UInt64 = 0

    private static let fieldMask: UInt64 = (1 << 22) - 1

    init(threads: Int) {
        threadCount = threads
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Asks the workers to exit (they finish on their own; they hold the core until then).
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func parallelFor(_ count: Int, _ body: (_ chunk: Int, _ threadIndex: Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        precondition(UInt64(count) <= Self.fieldMask, "too many chunks")
        callerLock.withLock { _ in
            withoutActuallyEscaping(body) { escapable in
                task = escapable
                completed.store(0, ordering: .relaxed)
                loops &+= 1
                ticket.store((loops & 0xFFFFF) << 44 | UInt64(count) << 22, ordering: .releasing)
                generation.add(1, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(&mutex)
                    pthread_cond_broadcast(&condition)
                    pthread_mutex_unlock(&mutex)
                }
                while let i = claim() {
                    escapable(i, 0)
                    completed.add(1, ordering: .releasing)
                }
                var spins = 0
                while completed.load(ordering: .acquiring) < count {
                    spins += 1
                    if spins > 2048 { sched_yield() }
                }
                task = nil
            }
        }
    }

    /// Claims the next chunk of the current loop, if one is left.
    @inline(__always)
    private func claim() -> Int? {
        var value = ticket.load(ordering: .acquiring)
        while true {
            let next = value & Self.fieldMask
            if next >= (value >> 22) & Self.fieldMask { return nil }
            let (exchanged, original) = ticket.compareExchange(
                expected: value, desired: value + 1, ordering: .acquiringAndReleasing)
            if exchanged { return Int(next) }
            value = original
        }
    }

    func workerLoop(index: Int) {
        var seen = 0
        while true {
            var current = generation.load(ordering: .acquiring)
            if current == seen {
                let start = DispatchTime.now().uptimeNanoseconds
                var spins = 0
                while current == seen {
                    spins += 1
                    if spins & 255 == 0 && DispatchTime.now().uptimeNanoseconds - start > 300_000 {
                        pthread_mutex_lock(&mutex)
                        sleepers.add(1, ordering: .sequentiallyConsistent)
                        while generation.load(ordering: .sequentiallyConsistent) == seen {
                            pthread_cond_wait(&condition, &mutex)
                        }
                        sleepers.subtract(1, ordering: .sequentiallyConsistent)
                        pthread_mutex_unlock(&mutex)
                    }
                    current = generation.load(ordering: .acquiring)
                }
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            while let i = claim() {
                task!(i, index)
                completed.add(1, ordering: .releasing)
            }
        }
    }
}
