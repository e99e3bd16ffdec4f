import Foundation

/// A shard's run offered to `llmperf merge`, and where it was found (a file, or the database merged into).
public struct ShardCandidate: Sendable, Equatable {
    public var info: RunInfo
    public var source: String

    public init(info: RunInfo, source: String) {
        self.info = info
        self.source = source
    }
}

/// Why shards cannot be merged: `incomplete` when some are missing or still running (waiting may help),
/// `refused` when they do not belong together (it never will).
public struct ShardMergeError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case incomplete
        case refused
    }

    public var kind: Kind
    public var problems: [String]

    public init(_ kind: Kind, _ problems: [String]) {
        self.kind = kind
        self.problems = problems
    }

    public var description: String { problems.joined(separator: "; ") }
}

/// Which shard runs make which merged run, checked, and how each shard's times move onto the merged
/// run's axis. A value: `RunStore.merge` carries it out.
///
/// The rules:
/// - Every run must be a shard's (`RunInfo.shard`), none still `running`; all of one scenario (its hash),
///   one batch and one shard count. Anything else is refused, named.
/// - One merged run per variant: shards 0..<N each exactly once (a missing or a repeated shard is named).
/// - The merged axis starts at the earliest shard origin on the wall clock: each shard's request times
///   move by its origin − that earliest origin (`shiftNanos`, ≥ 0). Percentiles are then computed from
///   all the rows, like any run's.
/// - The merged run: the shards' scenario, name, variant, batch and load; the union of their labels; the
///   hosts in shard order; from the first start to the last end; `failed` if a shard failed, else
///   `interrupted` if one was, else `completed`; the client's load is the busiest shard's (CPU share of
///   its process; each shard is a process of its own) with the largest lag of any.
public struct ShardMergePlan: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public var candidate: ShardCandidate
        /// Nanoseconds added to this shard's request times to put them on the merged axis.
        public var shiftNanos: Int64

        public var stamp: ShardStamp { candidate.info.shard! }
    }

    public struct Group: Sendable, Equatable {
        /// The merged run, without its id (the store gives one).
        public var merged: RunInfo
        /// By shard index, 0..<N.
        public var parts: [Part]
    }

    public var groups: [Group]

    public static func plan(_ candidates: [ShardCandidate]) -> Result<ShardMergePlan, ShardMergeError> {
        guard let first = candidates.first else {
            return .failure(ShardMergeError(.refused, ["nothing to merge: no run found"]))
        }
        var refused: [String] = []
        for candidate in candidates where candidate.info.shard == nil {
            refused.append(
                "run \(candidate.info.id) (\(candidate.source)) is not a shard's run (it was not run with --shard I/N)")
        }
        guard refused.isEmpty else { return .failure(ShardMergeError(.refused, refused)) }
        let reference = first.info
        let count = reference.shard!.shard.count
        for candidate in candidates.dropFirst() {
            let info = candidate.info
            let named = "run \(info.id) (\(candidate.source))"
            if info.scenarioHash != reference.scenarioHash {
                refused.append(
                    "\(named) measured another scenario than run \(reference.id) (\(first.source)): "
                        + "scenario \(info.scenarioHash.prefix(12)) against \(reference.scenarioHash.prefix(12))")
            }
            if info.batchID != reference.batchID {
                refused.append(
                    "\(named) is of batch \(info.batchID), run \(reference.id) of batch \(reference.batchID): "
                        + "shards of one load share a batch (--batch-id)")
            }
            if info.shard!.shard.count != count {
                refused.append(
                    "\(named) is one of \(info.shard!.shard.count) shards, run \(reference.id) one of \(count)")
            }
        }
        guard refused.isEmpty else { return .failure(ShardMergeError(.refused, refused)) }

        var variants: [String?] = []
        var byVariant: [String: [ShardCandidate]] = [:]
        for candidate in candidates {
            let key = candidate.info.variant ?? ""
            if byVariant[key] == nil { variants.append(candidate.info.variant) }
            byVariant[key, default: []].append(candidate)
        }
        var groups: [Group] = []
        var incomplete: [String] = []
        for variant in variants {
            let members = byVariant[variant ?? ""]!
            let name = variant.map { " of variant \($0)" } ?? ""
            var byShard: [Int: ShardCandidate] = [:]
            for candidate in members {
                let index = candidate.info.shard!.shard.index
                if let other = byShard[index] {
                    refused.append(
                        "shard \(index)/\(count)\(name) appears twice: run \(other.info.id) (\(other.source)) and run "
                            + "\(candidate.info.id) (\(candidate.source))")
                } else {
                    byShard[index] = candidate
                }
                if candidate.info.status == .running {
                    incomplete.append(
                        "shard \(index)/\(count)\(name) (run \(candidate.info.id), \(candidate.source)) is still running"
                    )
                }
            }
            let missing = (0..<count).filter { byShard[$0] == nil }
            if !missing.isEmpty {
                incomplete.append(
                    (missing.count == 1 ? "shard " : "shards ")
                        + missing.map { "\($0)/\(count)" }.joined(separator: ", ") + "\(name) "
                        + (missing.count == 1 ? "is" : "are") + " missing")
            }
            guard missing.isEmpty else { continue }
            let ordered = (0..<count).map { byShard[$0]! }
            let origin = ordered.map { $0.info.shard!.originWallNanos }.min()!
            let parts = ordered.map { Part(candidate: $0, shiftNanos: $0.info.shard!.originWallNanos &- origin) }
            groups.append(Group(merged: mergedInfo(ordered.map(\.info)), parts: parts))
        }
        if !refused.isEmpty { return .failure(ShardMergeError(.refused, refused)) }
        if !incomplete.isEmpty { return .failure(ShardMergeError(.incomplete, incomplete)) }
        return .success(ShardMergePlan(groups: groups))
    }

    static func mergedInfo(_ shards: [RunInfo]) -> RunInfo {
        let first = shards[0]
        var merged = first
        merged.id = ""
        merged.shard = nil
        merged.labels = Array(Set(shards.flatMap(\.labels))).sorted()
        var hosts: [String] = []
        for info in shards where !hosts.contains(info.host) { hosts.append(info.host) }
        merged.host = hosts.joined(separator: ", ")
        merged.startedAt = shards.map(\.startedAt).min()!
        merged.endedAt = shards.contains { $0.endedAt == nil } ? nil : shards.compactMap(\.endedAt).max()
        if shards.contains(where: { $0.status == .failed }) {
            merged.status = .failed
        } else if shards.contains(where: { $0.status == .interrupted }) {
            merged.status = .interrupted
        } else {
            merged.status = .completed
        }
        let loads = shards.compactMap(\.clientLoad)
        if loads.count == shards.count {
            // Each shard is its own process: the busiest one says whether the client was the bottleneck.
            let busiest = loads.max {
                $0.cpuSeconds / max($0.wallSeconds, 1e-9) < $1.cpuSeconds / max($1.wallSeconds, 1e-9)
            }!
            merged.clientLoad = ClientLoad(
                cpuSeconds: busiest.cpuSeconds, wallSeconds: busiest.wallSeconds,
                lagP50Milliseconds: loads.compactMap(\.lagP50Milliseconds).max(),
                lagP99Milliseconds: loads.compactMap(\.lagP99Milliseconds).max())
        } else {
            merged.clientLoad = nil
        }
        merged.steadyWindow = nil
        return merged
    }
}
