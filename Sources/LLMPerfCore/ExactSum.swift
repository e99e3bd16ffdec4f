/// The sum of many doubles, correctly rounded: the result is the exact mathematical sum
/// rounded once to the nearest double, so it does not depend on the order the values are
/// added in. A sorted array and a stream read in arrival order give the same bits, which is
/// what lets a summary computed in passes over the database equal one computed from an array.
///
/// The running sum is kept exactly as a short list of non-overlapping partial sums (Shewchuk's
/// adaptive-precision addition); the list stays at a few entries whatever the number of
/// values (at most about 40 for any doubles), so the memory is constant. Only finite values
/// are summed exactly; once an infinity or NaN is added the result is their plain sum.
public struct ExactSum: Sendable, Equatable {
    private var partials: [Double] = []
    private var special: Double = 0

    public init() {}

    public init<S: Sequence>(_ values: S) where S.Element == Double {
        for value in values { add(value) }
    }

    public mutating func add(_ value: Double) {
        guard value.isFinite else {
            special += value
            return
        }
        var x = value
        var kept = 0
        for index in partials.indices {
            var y = partials[index]
            if abs(x) < abs(y) { swap(&x, &y) }
            let high = x + y
            let low = y - (high - x)
            if low != 0 {
                partials[kept] = low
                kept += 1
            }
            x = high
        }
        partials.removeSubrange(kept...)
        partials.append(x)
    }

    /// The exact sum rounded to the nearest double (ties to even).
    public var value: Double {
        if special != 0 || special.isNaN { return special + rounded }
        return rounded
    }

    private var rounded: Double {
        var n = partials.count
        guard n > 0 else { return 0 }
        n -= 1
        var high = partials[n]
        var low: Double = 0
        while n > 0 {
            let x = high
            n -= 1
            let y = partials[n]
            high = x + y
            low = y - (high - x)
            if low != 0 { break }
        }
        // `high + low` rounded half-way: the partials below decide which way.
        if n > 0 && ((low < 0 && partials[n - 1] < 0) || (low > 0 && partials[n - 1] > 0)) {
            let y = low * 2
            let x = high + y
            if y == x - high { high = x }
        }
        return high
    }
}
