import Foundation

/// What a run has done so far, for the live progress line.
public struct ProgressSnapshot: Sendable, Equatable {
    public var done: Int
    /// Total requests expected (warmup included), nil for a duration-bound run.
    public var total: Int?
    public var errors: Int
    public var elapsedSeconds: Double
    public var outputTokens: Int
    public var ttftP50Milliseconds: Double?

    public init(
        done: Int, total: Int?, errors: Int, elapsedSeconds: Double, outputTokens: Int, ttftP50Milliseconds: Double?
    ) {
        self.done = done
        self.total = total
        self.errors = errors
        self.elapsedSeconds = elapsedSeconds
        self.outputTokens = outputTokens
        self.ttftP50Milliseconds = ttftP50Milliseconds
    }
}

/// One line: `[run] 120/200 done · 2 errors · 11.8 req/s · 845 tok/s · TTFT p50 52.1 ms · 10.2 s`.
public enum ProgressLine {
    public static func render(_ s: ProgressSnapshot, name: String) -> String {
        let progress = s.total.map { "\(s.done)/\($0)" } ?? "\(s.done)"
        let rate = s.elapsedSeconds > 0 ? Double(s.done) / s.elapsedSeconds : 0
        let tokens = s.elapsedSeconds > 0 ? Double(s.outputTokens) / s.elapsedSeconds : 0
        var parts = [
            "[\(name)] \(progress) done", "\(s.errors) error\(s.errors == 1 ? "" : "s")",
            String(format: "%.1f req/s", rate), String(format: "%.0f tok/s", tokens),
        ]
        if let ttft = s.ttftP50Milliseconds { parts.append("TTFT p50 " + Formatting.milliseconds(ttft) + " ms") }
        parts.append(String(format: "%.1f s", s.elapsedSeconds))
        return parts.joined(separator: " · ")
    }
}
