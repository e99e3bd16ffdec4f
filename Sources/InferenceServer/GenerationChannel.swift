import NIOConcurrencyHelpers

/// A hand-off from an inference loop (any thread, no async) to one request's HTTP response.
///
/// The loop calls `yield` per decoded piece and `finish` (or `fail`) once; the response side iterates
/// `stream`, and each `next()` takes every piece queued since the last one, so a fast loop never pays
/// an async hop per token and a slow client never blocks the loop (pieces queue up instead).
/// `isCancelled` tells the loop the client has gone or a stop sequence matched.
public final class GenerationChannel: Sendable {
    private struct State: Sendable {
        var pending: [GeneratedPiece] = []
        var finish: GenerationFinish?
        var error: (any Error)?
        var delivered = false
        var cancelled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())
    private let responseHeaders: [(name: String, value: String)]

    public init(responseHeaders: [(name: String, value: String)] = []) {
        self.responseHeaders = responseHeaders
    }

    /// Queues a piece; ignored after `finish`, `fail` or cancellation.
    public func yield(_ piece: GeneratedPiece) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard state.finish == nil, state.error == nil, !state.cancelled else { return nil }
            state.pending.append(piece)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    public func finish(_ finish: GenerationFinish) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard state.finish == nil, state.error == nil else { return nil }
            state.finish = finish
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    public func fail(_ error: any Error) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard state.finish == nil, state.error == nil else { return nil }
            state.error = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// True once the consumer stopped early; the loop should drop this sequence.
    public var isCancelled: Bool { state.withLockedValue { $0.cancelled } }

    /// The consumer side; iterate it once.
    public var stream: GenerationStream {
        GenerationStream(
            responseHeaders: responseHeaders,
            makeNext: { { try await self.next() } },
            onCancel: { self.cancel() })
    }

    private func cancel() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.cancelled = true
            state.pending.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func next() async throws -> GenerationBatch? {
        while true {
            enum Step {
                case batch(GenerationBatch)
                case end
                case failure(any Error)
                case wait
            }
            let step = state.withLockedValue { state -> Step in
                if state.delivered || state.cancelled { return .end }
                if let error = state.error {
                    state.delivered = true
                    return .failure(error)
                }
                if !state.pending.isEmpty || state.finish != nil {
                    let batch = GenerationBatch(pieces: state.pending, finish: state.finish)
                    state.pending.removeAll(keepingCapacity: true)
                    if state.finish != nil { state.delivered = true }
                    return .batch(batch)
                }
                return .wait
            }
            switch step {
            case .batch(let batch): return batch
            case .end: return nil
            case .failure(let error): throw error
            case .wait:
                try Task.checkCancellation()
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLockedValue { state -> Bool in
                            if state.cancelled || state.error != nil || state.finish != nil || !state.pending.isEmpty {
                                return true
                            }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.cancel()
                }
            }
        }
    }
}
