import Dispatch
import Foundation
import LLMPerfCore

/// Stores finished requests off the measuring path: `append` only takes a lock and copies the
/// trace into a buffer; a serial queue writes batches in one transaction each (every 256
/// requests or 250 ms). `finish` writes what is left and reports the first write error.
public final class RequestWriter: @unchecked Sendable {
    private let store: RunStore
    private let runID: String
    private let queue: DispatchQueue
    private let lock = NSLock()
    private var buffer: [RequestTrace] = []
    private var scheduled = false
    private var firstError: (any Error)?
    private var written = 0
    private let batchSize: Int
    private let flushDelay: DispatchTimeInterval

    public init(
        store: RunStore, runID: String, batchSize: Int = 256, flushDelay: DispatchTimeInterval = .milliseconds(250)
    ) {
        self.store = store
        self.runID = runID
        self.batchSize = batchSize
        self.flushDelay = flushDelay
        queue = DispatchQueue(label: "llmperf.writer.\(runID)")
    }

    public func append(_ trace: RequestTrace) {
        lock.lock()
        buffer.append(trace)
        let full = buffer.count >= batchSize
        let needsTimer = !scheduled
        if needsTimer { scheduled = true }
        lock.unlock()
        if full {
            queue.async { self.flush() }
        } else if needsTimer {
            queue.asyncAfter(deadline: .now() + flushDelay) { self.flush() }
        }
    }

    /// Writes everything buffered; returns the number of requests written in total.
    @discardableResult
    public func finish() throws -> Int {
        queue.sync { flush() }
        lock.lock()
        defer { lock.unlock() }
        if let firstError { throw firstError }
        return written
    }

    private func flush() {
        lock.lock()
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        scheduled = false
        lock.unlock()
        guard !batch.isEmpty else { return }
        do {
            try store.insertRequests(batch, runID: runID)
            lock.lock()
            written += batch.count
            lock.unlock()
        } catch {
            lock.lock()
            if firstError == nil { firstError = error }
            lock.unlock()
        }
    }
}
