import Foundation

public enum ArrivalProcess: String, Sendable, Equatable, CaseIterable, Codable {
    case poisson
    case constant
}

public enum LoadShape: Sendable, Equatable {
    /// Closed loop: N workers, each sends its next request when the previous one ends.
    case closed(concurrency: Int)
    /// Open loop: requests sent on a seeded schedule whatever is in flight; with
    /// `maxConcurrency` a request waits (recorded as client queue time) for a free slot.
    case open(ratePerSecond: Double, arrival: ArrivalProcess, maxConcurrency: Int?)
    /// Open loop on a recorded trace (`load.replay`): each row's request at its own time, scaled by
    /// the replay's speed, with the row's input and output lengths.
    case replay(ReplaySpec)
}

public enum LoadStop: Sendable, Equatable {
    case requests(Int)
    case duration(Duration)
}

public struct LoadSpec: Sendable, Equatable {
    public var shape: LoadShape
    public var stop: LoadStop
    /// Requests sent first, stored flagged, and kept out of the statistics.
    public var warmup: Int
    /// Seed of the arrival schedule (open loop).
    public var seed: UInt64

    public init(shape: LoadShape, stop: LoadStop, warmup: Int = 0, seed: UInt64 = 1) {
        self.shape = shape
        self.stop = stop
        self.warmup = warmup
        self.seed = seed
    }
}
