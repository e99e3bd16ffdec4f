import Dispatch
import Foundation
import LLMPerfCore

/// Stores finished requests off the measuring path: `append` only takes a lock and copies the
/// trace into a buffer; a serial queue writes batches in one transaction each (every 256
/// requests or 250 ms).
///
/// A batch that cannot be written is tried once more; when the retry fails too, the writer
/// stops storing, calls the failure handler once (the run stops sending), and `finish` throws
/// `RequestWriterError.writeFailed`. Every batch committed before stays stored: a batch is
/// all or nothing.
public final class RequestWriter: @unchecked Sendable {
    private let store: RunStore
    private let runID: String
    private let queue: DispatchQueue
    private let lock = NSLock()
    private var buffer: [RequestTrace] = []
    private var scheduled = false
    private var failure: RequestWriterError?
    private var failureHandler: (@Sendable (RequestWriterError) -> Void)?
    private var written = 0
    private var unstored = 0
    private let batchSize: Int
    private let flushDelay: DispatchTimeInterval
    private let retryDelay: TimeInterval

    public init(
        store: RunStore, runID: String, batchSize: Int = 256, flushDelay: DispatchTimeInterval = .milliseconds(250),
        retryDelay: TimeInterval = 0.1
    ) {
        self.store = store
        self.runID = runID
        self.batchSize = batchSize
        self.flushDelay = flushDelay
        self.retryDelay = retryDelay
        queue = DispatchQueue(label: "llmperf.writer.\(runID)")
    }

    /// Called once, on the writer's queue, when a batch could not be stored after its retry.
    public func onFailure(_ handler: @escaping @Sendable (RequestWriterError) -> Void) {
        lock.lock()
        failureHandler = handler
        let failed = failure
        lock.unlock()
        if let failed { handler(failed) }
    }

    /// The write failure, once one happened.
    public var failed: RequestWriterError? {
        lock.lock()
        defer { lock.unlock() }
        return failure
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

    /// Writes everything buffered; returns the number of requests written in total, or throws
    /// the write failure.
    @discardableResult
    public func finish() throws(RequestWriterError) -> Int {
        queue.sync { flush() }
        lock.lock()
        defer { lock.unlock() }
        if var failure {
            failure.stored = written
            failure.unstored = unstored
            throw failure
        }
        return written
    }

    private func flush() {
        lock.lock()
        let batch = buffer
        buffer.removeAll(keepingCapacity: true)
        scheduled = false
        let alreadyFailed = failure != nil
        if alreadyFailed { unstored += batch.count }
        lock.unlock()
        guard !batch.isEmpty, !alreadyFailed else { return }
        var lastError: (any Error)?
        for attempt in 0..<2 {
            if attempt > 0 { Thread.sleep(forTimeInterval: retryDelay) }
            do {
                try store.insertRequests(batch, runID: runID)
                lock.lock()
                written += batch.count
                lock.unlock()
                return
            } catch {
                lastError = error
            }
        }
        let error = RequestWriterError(
            runID: runID, cause: "\(lastError.map { "\($0)" } ?? "unknown error")",
            firstIndex: batch.map(\.index).min() ?? 0)
        lock.lock()
        failure = error
        unstored += batch.count
        let handler = failureHandler
        lock.unlock()
        handler?(error)
    }
}

/// Storing a batch of requests failed twice: the run is stopped and marked `failed`.
public struct RequestWriterError: Error, Equatable, CustomStringConvertible {
    public var runID: String
    /// The database's error on the retry.
    public var cause: String
    /// The lowest request index of the batch that could not be stored.
    public var firstIndex: Int
    /// Requests stored before the failure (kept) and requests not stored.
    public var stored = 0
    public var unstored = 0

    public var description: String {
        "storing the requests of run \(runID) failed (tried twice): \(cause); the \(stored) requests stored "
            + "before are kept, \(unstored) were not stored"
    }
}
