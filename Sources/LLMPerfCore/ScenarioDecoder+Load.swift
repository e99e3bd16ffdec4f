import Foundation

extension ScenarioDecoder {
    static let loadKeys = [
        "concurrency", "rate", "arrival", "max_concurrency", "requests", "duration", "warmup", "seed",
    ]

    /// `workloadSeed` is the default schedule seed (else 1).
    func load(_ node: ScenarioNode, workloadSeed: Int?) throws(ScenarioError) -> LoadSpec {
        let path = ["load"]
        try mapping(node, path, allowed: Self.loadKeys)
        try exclusive(
            "concurrency", "rate", in: node, path, hint: "use concurrency for a closed loop or rate for an open loop")
        try exclusive(
            "requests", "duration", in: node, path, hint: "a run stops after a number of requests or a duration")

        let shape: LoadShape
        if let concurrencyNode = node["concurrency"] {
            for key in ["arrival", "max_concurrency"] {
                if let entry = node.entry(key) {
                    throw error(
                        .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                        path + [key], "only applies to an open loop (rate), not to concurrency")
                }
            }
            shape = .closed(concurrency: try integer(concurrencyNode, path + ["concurrency"], minimum: 1))
        } else if let rateNode = node["rate"] {
            guard let text = rateNode.scalarText, let rate = RateParser.perSecond(text) else {
                throw invalid(rateNode, path + ["rate"], expected: RateParser.expectation)
            }
            var arrival = ArrivalProcess.poisson
            if let arrivalNode = node["arrival"] {
                arrival = try choice(arrivalNode, path + ["arrival"], ArrivalProcess.allCases.map { ($0.rawValue, $0) })
            }
            let maxConcurrency = try node["max_concurrency"].map { (n: ScenarioNode) throws(ScenarioError) in
                try integer(n, path + ["max_concurrency"], minimum: 1)
            }
            shape = .open(ratePerSecond: rate, arrival: arrival, maxConcurrency: maxConcurrency)
        } else {
            throw error(
                .missingKey, at: node, path,
                "expected concurrency (closed loop) or rate (open loop, requests per second)")
        }

        let stop: LoadStop
        if let requestsNode = node["requests"] {
            stop = .requests(try integer(requestsNode, path + ["requests"], minimum: 1))
        } else if let durationNode = node["duration"] {
            stop = .duration(try duration(durationNode, path + ["duration"]))
        } else {
            throw error(.missingKey, at: node, path, "expected requests (a count) or duration (such as 60s)")
        }

        var spec = LoadSpec(shape: shape, stop: stop)
        if let warmupNode = node["warmup"] { spec.warmup = try integer(warmupNode, path + ["warmup"], minimum: 0) }
        if let seedNode = node["seed"] {
            guard let text = seedNode.scalarText, let seed = UInt64(text) else {
                throw invalid(seedNode, path + ["seed"], expected: "a whole number ≥ 0")
            }
            spec.seed = seed
        } else if let workloadSeed {
            spec.seed = UInt64(bitPattern: Int64(workloadSeed))
        }
        return spec
    }
}
