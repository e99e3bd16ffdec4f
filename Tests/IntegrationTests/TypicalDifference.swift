/// The typical size of a difference between what the client measured and what the server's trace says,
/// across a run's requests: the median of their absolute values. One request's difference also holds
/// whatever the machine's scheduler did to either process at that moment (a busy 2-core machine can delay
/// one event by several ms); the median does not, so a check on it fails on a systematic error (an event
/// counted one token late is off by a whole interval in every request) and not on one late wake-up.
func typicalDifference(_ differences: [Double]) -> Double {
    let sorted = differences.map(abs).sorted()
    return sorted.isEmpty ? .infinity : sorted[sorted.count / 2]
}
