/// Finds stop strings in streamed text. Text that could be the beginning of a stop string is held back until the
/// next piece decides it.
struct StopStringMatcher {
    let stops: [String]
    private var held = ""

    init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Adds a piece; returns the text that may be emitted and whether a stop string was found (text after it is
    /// dropped).
    mutating func feed(_ piece: String) -> (text: String, stopped: Bool) {
        if stops.isEmpty { return (piece, false) }
        held += piece
        var earliest: String.Index?
        for stop in stops {
            if let r = held.range(of: stop), earliest == nil || r.lowerBound < earliest! { earliest = r.lowerBound }
        }
        if let earliest {
            let out = String(held[..<earliest])
            held = ""
            return (out, true)
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            var n = min(stop.count - 1, held.count)
            while n > keep {
                if held.hasSuffix(stop.prefix(n)) {
                    keep = n
                    break
                }
                n -= 1
            }
        }
        let cut = held.index(held.endIndex, offsetBy: -keep)
        let out = String(held[..<cut])
        held = String(held[cut...])
        return (out, false)
    }

    /// End of generation: whatever is held is emitted (it did not become a stop string), after `tail`.
    mutating func finish(_ tail: String) -> String {
        let (text, stopped) = feed(tail)
        if stopped { return text }
        defer { held = "" }
        return text + held
    }
}
