import NIOConcurrencyHelpers

/// Holds the engine once it has loaded; the server answers 503 until then.
final class EngineHost: Sendable {
    enum State: Sendable {
        case loading
        case ready(any ServingEngine)
        case failed(String)
    }

    private let box = NIOLockedValueBox(State.loading)

    var state: State { box.withLockedValue { $0 } }

    func setReady(_ engine: any ServingEngine) { box.withLockedValue { $0 = .ready(engine) } }

    func setFailed(_ message: String) { box.withLockedValue { $0 = .failed(message) } }
}
