import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fixed set of worker threads that persists across calls and runs data-parallel loops.
///
/// `parallelFor` hands out chunk indices through an atomic counter, so a thread slowed down by other work on the
/// machine simply takes fewer chunks. Idle workers spin briefly (decode issues thousands of small loops per second)
/// and then sleep on a condition variable.
public final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in a loop, the caller included.
    public let threadCount: Int

    private let generation = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(0)
    private let running = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let callerLock = Mutex<Void>(())
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var task: ((Int, Int) -> Void)?
    private var chunkCount = 0
    private var workers: [Thread] = []

    /// Creates a pool of `threads` threads in total (the calling thread counts as one).
    public init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        for index in 1..<threadCount {
            let thread = Thread { [unowned self] in self.workerLoop(index: index) }
            thread.name = "inference-\(index)"
            thread.stackSize = 1 << 20
            workers.append(thread)
            thread.start()
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
        while running.load(ordering: .acquiring) > -(threadCount - 1) { sched_yield() }
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Calls `body(chunk, threadIndex)` for every chunk in `0..<count`, spread over the pool, and returns when all
    /// are done. `threadIndex` is in `0..<threadCount` (0 is the caller) and can index per-thread scratch memory.
    public func parallelFor(_ count: Int, _ body: (_ chunk: Int, _ threadIndex: Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        callerLock.withLock { _ in
            withoutActuallyEscaping(body) { escapable in
                task = escapable
                chunkCount = count
                nextChunk.store(0, ordering: .relaxed)
                running.store(threadCount - 1, ordering: .relaxed)
                generation.add(1, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(&mutex)
                    pthread_cond_broadcast(&condition)
                    pthread_mutex_unlock(&mutex)
                }
                runChunks(escapable, count: count, threadIndex: 0)
                var spins = 0
                while running.load(ordering: .acquiring) > 0 {
                    spins += 1
                    if spins > 4096 { sched_yield() }
                }
                task = nil
            }
        }
    }

    @inline(__always)
    private func runChunks(_ body: (Int, Int) -> Void, count: Int, threadIndex: Int) {
        while true {
            let i = nextChunk.add(1, ordering: .relaxed).oldValue
            if i >= count { break }
            body(i, threadIndex)
        }
    }

    private func workerLoop(index: Int) {
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
            if stopping.load(ordering: .acquiring) {
                running.subtract(1, ordering: .releasing)
                return
            }
            if let task { runChunks(task, count: chunkCount, threadIndex: index) }
            running.subtract(1, ordering: .releasing)
        }
    }
}
