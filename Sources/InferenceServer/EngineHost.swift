import NIOConcurrencyHelpers
import ServiceLifecycle

/// Holds the engine once it has loaded; the server answers 503 until then.
final class EngineHost: Sendable {
    enum State: Sendable {
        case loading
        case ready(any ServingEngine)
        case failed(String)
    }

    private struct Box: Sendable {
        var state = State.loading
        var shuttingDown = false
    }

    private let box = NIOLockedValueBox(Box())

    var state: State { box.withLockedValue { $0.state } }

    /// An engine that becomes ready after `shutdown` is shut down at once.
    func setReady(_ engine: any ServingEngine) {
        let late = box.withLockedValue { box in
            box.state = .ready(engine)
            return box.shuttingDown
        }
        if late { engine.shutdown() }
    }

    func setFailed(_ message: String) { box.withLockedValue { $0.state = .failed(message) } }

    /// Shuts the engine down (now, or when it becomes ready); once only.
    func shutdown() {
        let engine = box.withLockedValue { box -> (any ServingEngine)? in
            guard !box.shuttingDown else { return nil }
            box.shuttingDown = true
            if case .ready(let engine) = box.state { return engine }
            return nil
        }
        engine?.shutdown()
    }
}

/// A service of the server's group that shuts the engine down when the group's graceful shutdown begins. Placed
/// after the HTTP application, it is told first (a group stops its services in reverse order), so waiting requests
/// are answered while the application still finishes its in-flight responses.
struct EngineShutdownService: Service {
    let host: EngineHost

    func run() async throws {
        try? await gracefulShutdown()
        host.shutdown()
    }
}
