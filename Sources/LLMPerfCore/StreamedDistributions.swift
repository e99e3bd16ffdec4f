/// `DistributionSummary`s of several samples that are too large to hold in memory, computed
/// exactly by reading the samples several times (passes) instead of sorting them.
///
/// `scan` must call `visit(series, value)` for every value of every sample, and give the same
/// values each time it is called (the order may differ). The result equals, bit for bit,
/// `DistributionSummary(sorted:)` of each sample sorted: the same count, the same correctly
/// rounded mean and standard deviation (`ExactSum`), and the same interpolated quantiles,
/// because the two order statistics each quantile interpolates between are found exactly.
///
/// How: a double maps to a 64-bit key with the same order. Pass 0 counts values per bucket of
/// the key's top 12 bits (and the sum, min and max); pass 1 narrows each wanted rank to the
/// next 12 bits within its bucket (and sums the squared deviations from the mean); each later
/// pass narrows further, until a rank's bucket holds one distinct value or few enough values
/// (≤ `collectLimit`) to keep and sort. Memory: 4,096 counters per searched bucket, at most 8
/// searched buckets per sample (p50, p90, p95, p99, each between two ranks), whatever the
/// sample size; the number of passes is 3 to 4 for usual latencies and at most 7.
public enum StreamedDistributions {
    static let bitsPerPass = 12
    static let collectLimit = 4096
    /// The quantiles `DistributionSummary` reports, in its order.
    static let probabilities: [Double] = [0.50, 0.90, 0.95, 0.99]

    public static func summarize(
        seriesCount: Int, scan: ((_ series: Int, _ value: Double) -> Void) throws -> Void
    ) rethrows -> [DistributionSummary?] {
        guard seriesCount > 0 else { return [] }
        var series = (0..<seriesCount).map { _ in SeriesSearch() }
        // Pass 0: counts, sums, extremes and the top-level histogram.
        try scan { index, value in series[index].firstPass(value) }
        for index in series.indices { series[index].planRanks() }
        var pass = 1
        while series.contains(where: \.needsPass) {
            let current = pass
            try scan { index, value in series[index].laterPass(value, pass: current) }
            for index in series.indices { series[index].finishPass(current) }
            pass += 1
        }
        return series.map { $0.summary() }
    }

    /// An order-preserving map from doubles to unsigned integers (negative values reversed).
    @inline(__always) static func key(_ value: Double) -> UInt64 {
        let bits = value.bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    @inline(__always) static func value(ofKey key: UInt64) -> Double {
        key & (1 << 63) != 0 ? Double(bitPattern: key & ~(1 << 63)) : Double(bitPattern: ~key)
    }
}

/// The search state of one sample.
struct SeriesSearch {
    var count = 0
    var sum = ExactSum()
    var minimum = Double.infinity
    var maximum = -Double.infinity
    var mean = 0.0
    var squares = ExactSum()
    var topLevel = [Int](repeating: 0, count: 1 << StreamedDistributions.bitsPerPass)
    /// The ranks each quantile interpolates between, and where each stands.
    var targets: [RankTarget] = []
    /// What the current pass looks at: one per distinct range still searched.
    var probes: [RangeProbe] = []
    var squaresDone = false

    var needsPass: Bool { count > 1 && (!squaresDone || targets.contains { $0.value == nil }) }

    mutating func firstPass(_ value: Double) {
        count += 1
        sum.add(value)
        if value < minimum { minimum = value }
        if value > maximum { maximum = value }
        topLevel[Int(StreamedDistributions.key(value) >> UInt64(64 - StreamedDistributions.bitsPerPass))] += 1
    }

    /// After pass 0: which ranks are wanted and in which top-level bucket each lies.
    mutating func planRanks() {
        guard count > 0 else { return }
        mean = sum.value / Double(count)
        var ranks: [Int] = []
        for p in StreamedDistributions.probabilities {
            let position = Quantile.position(count: count, p)
            ranks.append(position.lower)
            ranks.append(position.upper)
        }
        targets = ranks.map { RankTarget(rank: $0) }
        for index in targets.indices {
            targets[index].descend(into: topLevel, bits: StreamedDistributions.bitsPerPass)
        }
        topLevel = []
        planProbes()
    }

    mutating func planProbes() {
        probes = []
        for index in targets.indices where targets[index].value == nil {
            let target = targets[index]
            let collect = target.rangeCount <= StreamedDistributions.collectLimit
            if let existing = probes.firstIndex(where: {
                $0.prefix == target.prefix && $0.known == target.known && $0.collects == collect
            }) {
                targets[index].probe = existing
            } else {
                targets[index].probe = probes.count
                probes.append(RangeProbe(prefix: target.prefix, known: target.known, collects: collect))
            }
        }
    }

    mutating func laterPass(_ value: Double, pass: Int) {
        if pass == 1 {
            let deviation = value - mean
            squares.add(deviation * deviation)
        }
        guard !probes.isEmpty else { return }
        let key = StreamedDistributions.key(value)
        for index in probes.indices { probes[index].observe(key, value) }
    }

    mutating func finishPass(_ pass: Int) {
        if pass == 1 { squaresDone = true }
        for index in targets.indices where targets[index].value == nil {
            let probe = probes[targets[index].probe]
            targets[index].advance(with: probe)
        }
        planProbes()
    }

    func summary() -> DistributionSummary? {
        guard count > 0 else { return nil }
        var quantiles: [Double] = []
        for (i, p) in StreamedDistributions.probabilities.enumerated() {
            let position = Quantile.position(count: count, p)
            let lower = count == 1 ? minimum : targets[2 * i].value!
            let upper = count == 1 ? minimum : targets[2 * i + 1].value!
            quantiles.append(Quantile.interpolate(lower, upper, position.fraction))
        }
        let stddev = count > 1 ? (squares.value / Double(count - 1)).squareRoot() : 0
        return DistributionSummary(
            count: count, mean: mean, min: minimum, max: maximum, stddev: stddev, p50: quantiles[0],
            p90: quantiles[1], p95: quantiles[2], p99: quantiles[3])
    }
}

/// One wanted rank: the range of keys it is known to lie in (the top `known` bits equal
/// `prefix`), its rank within that range and how many values the range holds.
struct RankTarget {
    var rank: Int
    var prefix: UInt64 = 0
    var known = 0
    var rangeCount = 0
    var probe = 0
    var value: Double?

    init(rank: Int) { self.rank = rank }

    /// Narrows the range to the histogram bucket holding the rank.
    mutating func descend(into histogram: [Int], bits: Int) {
        var below = 0
        for (bucket, n) in histogram.enumerated() {
            if rank < below + n {
                rank -= below
                rangeCount = n
                prefix = known == 0 ? UInt64(bucket) : (prefix << UInt64(bits)) | UInt64(bucket)
                known += bits
                if known == 64 { value = StreamedDistributions.value(ofKey: prefix) }
                return
            }
            below += n
        }
        preconditionFailure("a scan gave fewer values than the first one (rank \(rank) of \(below))")
    }

    mutating func advance(with probe: RangeProbe) {
        precondition(probe.matched == rangeCount, "a scan gave other values than the first one")
        if probe.minKey == probe.maxKey {
            value = StreamedDistributions.value(ofKey: probe.minKey)
        } else if probe.collects {
            value = probe.values.sorted()[rank]
        } else {
            descend(into: probe.counts, bits: probe.bits)
        }
    }
}

/// What one pass gathers about one range of keys: a histogram of the next bits, or the values
/// themselves when few.
struct RangeProbe {
    let prefix: UInt64
    let known: Int
    let collects: Bool
    let bits: Int
    var counts: [Int] = []
    var values: [Double] = []
    var matched = 0
    var minKey = UInt64.max
    var maxKey = UInt64.min

    init(prefix: UInt64, known: Int, collects: Bool) {
        self.prefix = prefix
        self.known = known
        self.collects = collects
        bits = Swift.min(StreamedDistributions.bitsPerPass, 64 - known)
        if !collects { counts = [Int](repeating: 0, count: 1 << bits) }
    }

    @inline(__always) mutating func observe(_ key: UInt64, _ value: Double) {
        guard key >> UInt64(64 - known) == prefix else { return }
        matched += 1
        if key < minKey { minKey = key }
        if key > maxKey { maxKey = key }
        if collects {
            values.append(value)
        } else {
            let shift = 64 - known - bits
            counts[Int((key >> UInt64(shift)) & ((1 << UInt64(bits)) - 1))] += 1
        }
    }
}
