import Foundation

extension ScenarioDecoder {
    static let loadKeys = [
        "concurrency", "rate", "replay", "arrival", "max_concurrency", "requests", "duration", "warmup", "seed",
    ]
    static let replayKeys = ["path", "format", "speed", "limit"]

    /// `workloadSeed` is the default schedule seed (else 1).
    func load(_ node: ScenarioNode, workloadSeed: Int?) throws(ScenarioError) -> LoadSpec {
        let path = ["load"]
        try mapping(node, path, allowed: Self.loadKeys)
        try exclusive(
            "concurrency", "rate", in: node, path, hint: "use concurrency for a closed loop or rate for an open loop")
        for (first, second) in [("concurrency", "replay"), ("rate", "replay")] {
            try exclusive(
                first, second, in: node, path, hint: "replay sends each request at the trace's own time (open loop)")
        }
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
        } else if let replayNode = node["replay"] {
            for key in ["arrival", "max_concurrency"] {
                if let entry = node.entry(key) {
                    throw error(
                        .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                        path + [key], "only applies to an open loop (rate), not to replay (the trace says when)")
                }
            }
            shape = .replay(try replay(replayNode, path + ["replay"]))
        } else {
            throw error(
                .missingKey, at: node, path,
                "expected concurrency (closed loop), rate (open loop, requests per second) or replay (a trace)")
        }

        var warmup = 0
        if let warmupNode = node["warmup"] { warmup = try integer(warmupNode, path + ["warmup"], minimum: 0) }
        let stop: LoadStop
        if case .replay(let spec) = shape, node["requests"] == nil && node["duration"] == nil {
            // The trace's end ends the run (the pacer runs out); a request count would only cut it short.
            guard spec.requests.count > warmup else {
                throw invalid(
                    node["warmup"] ?? node, path + ["warmup"],
                    expected: "fewer warmup requests than the trace's \(spec.requests.count) rows")
            }
            stop = .requests(spec.requests.count - warmup)
        } else if let requestsNode = node["requests"] {
            stop = .requests(try integer(requestsNode, path + ["requests"], minimum: 1))
        } else if let durationNode = node["duration"] {
            stop = .duration(try duration(durationNode, path + ["duration"]))
        } else {
            throw error(.missingKey, at: node, path, "expected requests (a count) or duration (such as 60s)")
        }

        return try finish(node, path, shape: shape, stop: stop, warmup: warmup, workloadSeed: workloadSeed)
    }

    private func finish(
        _ node: ScenarioNode, _ path: [String], shape: LoadShape, stop: LoadStop, warmup: Int, workloadSeed: Int?
    ) throws(ScenarioError) -> LoadSpec {
        var spec = LoadSpec(shape: shape, stop: stop, warmup: warmup)
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

    /// `load.replay: {path, format, speed, limit}`: the trace is read now, so a bad row is reported
    /// with the scenario's position and the trace file's line.
    func replay(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> ReplaySpec {
        try mapping(node, path, allowed: Self.replayKeys)
        guard let pathNode = node["path"] else {
            throw missing("path", in: node, path, "expected the trace file's path")
        }
        let written = try nonEmptyString(pathNode, path + ["path"], expected: "a path to a trace file")
        guard let formatNode = node["format"] else {
            throw missing(
                "format", in: node, path,
                "expected format: one of \(ReplayFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let format = try choice(formatNode, path + ["format"], ReplayFormat.allCases.map { ($0.rawValue, $0) })
        var speed = 1.0
        if let speedNode = node["speed"] {
            speed = try number(
                speedNode, path + ["speed"], in: Double.leastNonzeroMagnitude...1_000_000,
                expected: "a number > 0 (2.0 replays twice as fast)")
        }
        let limit = try node["limit"].map { (n: ScenarioNode) throws(ScenarioError) in
            try integer(n, path + ["limit"], minimum: 1)
        }
        let resolved = resolvedPath(written)
        let text: String
        switch ScenarioFileReader.readText(path: resolved) {
        case .success(let contents): text = contents
        case .failure(let failure):
            throw error(.referencedFile, at: pathNode, path + ["path"], "cannot read \(resolved): \(failure.reason)")
        }
        let requests: [ReplayRequest]
        do {
            requests = try ReplayTraceParser.parse(text, format: format, file: written)
        } catch {
            throw self.error(.referencedFile, at: pathNode, path + ["path"], error.description)
        }
        return ReplaySpec(
            path: written, format: format, speed: speed, limit: limit, requests: requests,
            digest: ScenarioDigest.sha256Hex(text))
    }
}
