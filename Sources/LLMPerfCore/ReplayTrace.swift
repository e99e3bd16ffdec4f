import Foundation

/// The file formats `load.replay` reads (see `ReplayTraceParser` and `datasets/README.md`).
public enum ReplayFormat: String, Sendable, Equatable, CaseIterable {
    /// JSON lines: `timestamp` (ms), `input_length`, `output_length`, `hash_ids` (512-token blocks).
    case mooncake
    /// CSV: `TIMESTAMP` (a date and time), `ContextTokens`, `GeneratedTokens`.
    case azure
    /// CSV: `Timestamp` (s), `Request tokens`, `Response tokens`, and other columns.
    case burstgpt
    /// llmperf's own JSON lines: `timestamp_ms`, `input_tokens`, `output_tokens`, optional `hash_ids`.
    case jsonl
}

/// One request of a recorded trace: when it arrived (from the trace's first row), how long its
/// prompt was, how long its answer was, and which prompt blocks it shared with others.
public struct ReplayRequest: Sendable, Equatable {
    /// Arrival after the first row's, in nanoseconds of the trace's own time (before `speed`).
    public var offsetNanos: UInt64
    public var inputTokens: Int
    public var outputTokens: Int
    /// Ids of the prompt's 512-token blocks, in order; requests with equal leading ids share that
    /// prefix. Empty when the format has none (each request then gets blocks of its own).
    public var hashIDs: [UInt64]
    /// The row's line in the file (1-based), for messages.
    public var line: Int

    public init(offsetNanos: UInt64, inputTokens: Int, outputTokens: Int, hashIDs: [UInt64] = [], line: Int = 0) {
        self.offsetNanos = offsetNanos
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.hashIDs = hashIDs
        self.line = line
    }
}

/// `load.replay`: a recorded trace sent again at its own times (scaled by `speed`), open loop.
public struct ReplaySpec: Sendable, Equatable {
    /// The path as the scenario wrote it (resolved against the scenario's directory when read).
    public var path: String
    public var format: ReplayFormat
    /// 2.0 sends the trace twice as fast (every gap halved); 0.5 half as fast.
    public var speed: Double
    /// Replay only the first `limit` rows (nil: all).
    public var limit: Int?
    /// The rows replayed (the first `limit` of the file), in file order.
    public var requests: [ReplayRequest]
    /// SHA-256 (hex) of the file's bytes: part of the scenario's hash, so two runs of different
    /// traces under one path never count as the same workload.
    public var digest: String

    public init(
        path: String, format: ReplayFormat, speed: Double = 1, limit: Int? = nil, requests: [ReplayRequest],
        digest: String = ""
    ) {
        self.path = path
        self.format = format
        self.speed = speed
        self.limit = limit
        self.requests = limit.map { Array(requests.prefix($0)) } ?? requests
        self.digest = digest
    }

    /// When request `index` is due after the run's start: its trace offset divided by `speed`,
    /// rounded to the nanosecond.
    public func scheduledOffsetNanos(_ index: Int) -> UInt64 {
        let raw = requests[index].offsetNanos
        if speed == 1 { return raw }
        return UInt64((Double(raw) / speed).rounded())
    }
}
