import Foundation

extension LoadSpec {
    /// A one-line description stored with the run: `closed c=4 n=100 warmup=2`,
    /// `open poisson 10/s max=32 30s`.
    public var summaryText: String {
        var parts: [String] = []
        switch shape {
        case .closed(let concurrency): parts.append("closed c=\(concurrency)")
        case .open(let rate, let arrival, let maxConcurrency):
            parts.append("open \(arrival.rawValue) \(Self.rateText(rate))/s")
            if let maxConcurrency { parts.append("max=\(maxConcurrency)") }
        case .replay(let spec):
            parts.append("replay \(spec.format.rawValue) x\(DecimalText.trimmed(spec.speed, fractionDigits: 3))")
        }
        switch stop {
        case .requests(let n): parts.append("n=\(n)")
        case .duration(let d):
            parts.append("for " + String(format: "%gs", d.secondsValue))
        }
        if warmup > 0 { parts.append("warmup=\(warmup)") }
        return parts.joined(separator: " ")
    }

    /// Whether a stored run's `summaryText` is the replay of a trace (`replay mooncake x1 n=40`).
    public static func isReplay(loadDescription text: String) -> Bool { text.hasPrefix("replay ") }

    /// Whether a stored run's `summaryText` is an open loop without a cap on requests in flight (its queue
    /// time is then the client's lateness alone).
    public static func openLoopUncapped(loadDescription text: String) -> Bool {
        (text.hasPrefix("open ") || isReplay(loadDescription: text))
            && !text.split(separator: " ").contains { $0.hasPrefix("max=") }
    }

    private static func rateText(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(format: "%g", rate)
    }
}

extension WorkloadSpec {
    /// SHA-256 of the prompt set (each prompt's system and user text, in order), so runs
    /// that sent different prompts can be told apart.
    public var promptSetHash: String {
        var text = ""
        for prompt in prompts {
            text += "s:" + (prompt.system ?? "") + "\u{1F}u:" + prompt.user + "\u{1E}"
        }
        return String(ScenarioDigest.sha256Hex(text).prefix(16))
    }
}
