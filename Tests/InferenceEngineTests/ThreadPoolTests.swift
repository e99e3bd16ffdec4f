import Synchronization
import Testing

@testable import InferenceEngine

@Suite struct ThreadPoolTests {
    @Test func everyChunkRunsExactlyOnce() {
        let pool = ThreadPool(threads: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        defer { counts.deallocate() }
        for round in 0..<2000 {
            let n = 1 + round % 64
            counts.initialize(repeating: 0, count: 64)
            pool.parallelFor(n) { chunk, thread in
                #expect(thread >= 0 && thread < 3)
                counts[chunk] += 1
            }
            for i in 0..<64 where counts[i] != (i < n ? 1 : 0) {
                Issue.record("round \(round): chunk \(i) ran \(counts[i]) times")
            }
        }
    }

    @Test func poolsCanBeReleased() {
        for _ in 0..<20 {
            let pool = ThreadPool(threads: 2)
            let total = Atomic<Int>(0)
            pool.parallelFor(10) { chunk, _ in total.add(chunk, ordering: .relaxed) }
            #expect(total.load(ordering: .relaxed) == 45)
        }
    }
}
