/// One of N shares of a scenario's load, when the load is split over several processes or machines
/// (`llmperf run --shard I/N`, `--processes N`, `llmperf kube render`). Shards are numbered from 0.
///
/// The split, chosen so that the union of the shards is the unsharded run:
/// - Requests keep their unsharded index: shard I sends the requests whose index is I modulo N, so
///   their prompts (`index % promptCount`, datasets included) and warmup flags are the unsharded
///   ones. An open loop's and a replay's arrivals are drawn as in the unsharded run and each shard
///   sends every N-th, at its unsharded time; `.requests(n)` and `.duration(d)` are the unsharded
///   limits, applied to the unsharded indices and due times.
/// - A closed loop's concurrency, and an open loop's `max_concurrency`, are split as evenly as they
///   go (`share(of:)`): each shard needs at least one.
/// - Sessions (`workload.sessions`) are split by session index (I modulo N); a session's turns stay
///   in its shard. A turn's stored index is its shard's count of turns × N + I (unique over the
///   shards), and a `.requests(n)` limit counts each shard's `share(of: n)` turns.
public struct ShardSpec: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// nil unless 0 ≤ index < count.
    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// `I/N`, as `--shard` takes it.
    public static func parse(_ text: String) -> Result<ShardSpec, ShardSpecError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            return .failure(ShardSpecError("expects I/N (shard I of N, from 0), such as 0/4, got '\(text)'"))
        }
        guard count >= 1 else { return .failure(ShardSpecError("needs N ≥ 1 shards, got '\(text)'")) }
        guard let shard = ShardSpec(index: index, count: count) else {
            return .failure(ShardSpecError("shard index must be 0 to \(count - 1) for \(count) shards, got '\(text)'"))
        }
        return .success(shard)
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether the request (or session) with this unsharded index is this shard's.
    public func owns(_ unshardedIndex: Int) -> Bool { unshardedIndex % count == index }

    /// This shard's part of `total` split as evenly as it goes: the first `total % count` shards take
    /// one more.
    public func share(of total: Int) -> Int { total / count + (index < total % count ? 1 : 0) }

    /// The stored index of this shard's `local`-th request (from 0) when requests are numbered per shard
    /// (sessions): unique over the shards.
    public func storedIndex(local: Int) -> Int { local * count + index }
}

public struct ShardSpecError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension LoadSpec {
    /// Why this load cannot be split into `count` shards (nil when it can): a closed loop, or an open loop's
    /// `max_concurrency`, with fewer slots than shards would leave a shard none.
    public func shardProblem(count: Int) -> String? {
        switch shape {
        case .closed(let concurrency) where concurrency < count:
            return
                "a closed loop of concurrency \(concurrency) cannot be split into \(count) shards (each needs at least 1)"
        case .open(_, _, let maxConcurrency?) where maxConcurrency < count:
            return "max_concurrency \(maxConcurrency) cannot be split into \(count) shards (each needs at least 1)"
        default:
            return nil
        }
    }

    /// The pacer of `shard`'s share of this load: as `makePacer()`, with the concurrency (or
    /// `max_concurrency`) split. It still paces every unsharded arrival: the state machines skip those of
    /// the other shards.
    public func makePacer(shard: ShardSpec?) -> (any Pacer)? {
        guard let shard else { return makePacer() }
        var load = self
        switch shape {
        case .closed(let concurrency):
            load.shape = .closed(concurrency: Swift.max(1, shard.share(of: concurrency)))
        case .open(let rate, let arrival, let maxConcurrency?):
            load.shape = .open(
                ratePerSecond: rate, arrival: arrival, maxConcurrency: Swift.max(1, shard.share(of: maxConcurrency)))
        case .open, .replay:
            break
        }
        return load.makePacer()
    }
}
