import LLMPerfCore

/// A run over time, in buckets from its first measured request's start: output tokens per
/// second (successful requests, each chunk's tokens at its arrival, scaled to the server's
/// usage count when it sent one) and the average number of requests in flight (time-weighted,
/// every measured request). Buckets are one second wide unless the run is longer than
/// `maximumBuckets` seconds; then they widen to whole seconds so there are at most that many.
/// A last bucket shorter than half the width is merged into the one before it.
struct RunTimeSeries {
    static let maximumBuckets = 600

    var bucketSeconds: Double
    /// Seconds from the origin to each bucket's middle.
    var times: [Double]
    var outputTokensPerSecond: [Double]
    var inFlight: [Double]

    init?(traces: [RequestTrace]) {
        var origin = UInt64.max
        var end: UInt64 = 0
        // Traces are read in place (`traces[i]`), never copied: that is what costs on large runs.
        for i in traces.indices where !traces[i].isWarmup {
            origin = Swift.min(origin, traces[i].startedAtNanos)
            end = Swift.max(end, traces[i].endedAtNanos)
            if let last = traces[i].chunkAtNanos.last { end = Swift.max(end, last) }
        }
        guard origin != .max, end > origin else { return nil }
        let span = end - origin
        let seconds = (Double(span) / 1e9).rounded(.up)
        let widthSeconds = Swift.max(1, (seconds / Double(RunTimeSeries.maximumBuckets)).rounded(.up))
        let width = UInt64(widthSeconds * 1e9)
        let count = Int((span + width - 1) / width)
        var tokens = [Double](repeating: 0, count: count)
        var busy = [Double](repeating: 0, count: count)  // request-nanoseconds per bucket
        for i in traces.indices where !traces[i].isWarmup {
            let started = traces[i].startedAtNanos
            let start = started &- Swift.min(started, origin)
            let ended = traces[i].endedAtNanos
            let stop = Swift.max(start, ended &- Swift.min(ended, origin))
            var bucket = Int(start / width)
            while bucket < count {
                let lo = Swift.max(start, UInt64(bucket) * width)
                let hi = Swift.min(stop, UInt64(bucket + 1) * width)
                if hi <= lo { break }
                busy[bucket] += Double(hi - lo)
                bucket += 1
            }
            guard traces[i].outcome == .ok, !traces[i].chunkAtNanos.isEmpty else { continue }
            let chunkAt = traces[i].chunkAtNanos
            let chunkTokens = traces[i].chunkTokens
            var chunkTotal = 0.0
            for c in chunkAt.indices { chunkTotal += c < chunkTokens.count ? Double(chunkTokens[c]) : 1 }
            guard chunkTotal > 0 else { continue }
            let scale = Double(traces[i].outputTokens) / chunkTotal
            for c in chunkAt.indices {
                let at = chunkAt[c]
                let b = Swift.min(count - 1, Int((at &- Swift.min(at, origin)) / width))
                tokens[b] += (c < chunkTokens.count ? Double(chunkTokens[c]) : 1) * scale
            }
        }
        bucketSeconds = widthSeconds
        // A short last bucket would show a spike or a dip: fold it into the one before.
        var buckets = count
        var lastCovered = Double(span - UInt64(count - 1) * width)
        if count > 1 && lastCovered < Double(width) / 2 {
            tokens[count - 2] += tokens[count - 1]
            busy[count - 2] += busy[count - 1]
            lastCovered += Double(width)
            buckets -= 1
        }
        var times: [Double] = []
        var rates: [Double] = []
        var flights: [Double] = []
        times.reserveCapacity(buckets)
        for b in 0..<buckets {
            let covered = b == buckets - 1 ? lastCovered : Double(width)
            times.append((Double(UInt64(b) * width) + covered / 2) / 1e9)
            rates.append(tokens[b] / (covered / 1e9))
            flights.append(busy[b] / covered)
        }
        self.times = times
        outputTokensPerSecond = rates
        inFlight = flights
    }
}
