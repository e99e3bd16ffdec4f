import Foundation

/// Watches a run while it goes: told when the run starts, when each request goes out and when its
/// trace arrives, and when the run ends. The live metrics endpoint (`run --metrics-listen`) is
/// one. Calls come from the driver's and the transport's threads and must not block.
public protocol RunObserver: Sendable {
    /// The run is stored (`running`) and about to send; `originNanos` is the run's clock origin.
    func runStarted(_ info: RunInfo, originNanos: UInt64)
    /// A request was handed to the transport at `atNanos` (CLOCK_MONOTONIC).
    func requestSent(_ order: RequestOrder, atNanos: UInt64)
    /// A request ended (any outcome); its trace, as stored.
    func requestFinished(_ trace: RequestTrace)
    /// The run ended with `status`.
    func runEnded(_ info: RunInfo)
}

/// A transport that tells an observer of every send and every trace, and passes both through.
public struct ObservedTransport: Transport {
    public let base: any Transport
    public let observer: any RunObserver
    public let clock: any RunClock

    public init(base: any Transport, observer: any RunObserver, clock: any RunClock) {
        self.base = base
        self.observer = observer
        self.clock = clock
    }

    public var promptCount: Int { base.promptCount }

    public func send(
        _ order: RequestOrder, completion: @escaping @Sendable (RequestTrace) -> Void
    ) -> any InFlightRequest {
        observer.requestSent(order, atNanos: clock.nowNanos())
        return base.send(order) { trace in
            observer.requestFinished(trace)
            completion(trace)
        }
    }
}
