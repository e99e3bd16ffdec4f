import Foundation

extension ScenarioDecoder {
    static let sessionKeys = ["turns", "think_time", "history"]

    /// `workload.sessions: {turns: 3..8 | N | from_dataset, think_time: 2s | {mean, stddev}, history: full
    /// | {window: N}}`.
    func sessions(_ node: ScenarioNode, _ path: [String], workload: ScenarioNode, api: APIKind)
        throws(ScenarioError) -> SessionSpec
    {
        try mapping(node, path, allowed: Self.sessionKeys)
        guard api.generates else {
            throw error(
                .conflict, at: node, path,
                "a session is a conversation with a model: the \(api.rawValue) API generates no answers to carry")
        }
        var spec = SessionSpec()
        if let turnsNode = node["turns"] {
            spec.turns = try sessionTurns(turnsNode, path + ["turns"], workload: workload)
        }
        if let thinkNode = node["think_time"] {
            let thinkPath = path + ["think_time"]
            if thinkNode.entries != nil {
                try mapping(thinkNode, thinkPath, allowed: ["mean", "stddev"])
                guard let meanNode = thinkNode["mean"] else { throw missing("mean", in: thinkNode, thinkPath) }
                spec.thinkTimeMeanNanos = try duration(meanNode, thinkPath + ["mean"], allowZero: true).wholeNanoseconds
                if let stddevNode = thinkNode["stddev"] {
                    spec.thinkTimeStddevNanos =
                        try duration(stddevNode, thinkPath + ["stddev"], allowZero: true).wholeNanoseconds
                }
            } else {
                spec.thinkTimeMeanNanos = try duration(thinkNode, thinkPath, allowZero: true).wholeNanoseconds
            }
        }
        if let historyNode = node["history"] {
            let historyPath = path + ["history"]
            if historyNode.entries != nil {
                try mapping(historyNode, historyPath, allowed: ["window"])
                guard let windowNode = historyNode["window"] else {
                    throw missing("window", in: historyNode, historyPath)
                }
                spec.history = .window(try integer(windowNode, historyPath + ["window"], minimum: 1))
            } else {
                guard historyNode.scalarText == "full" else {
                    throw invalid(
                        historyNode, historyPath,
                        expected: "full (every earlier turn) or {window: N} (the last N turns)")
                }
                spec.history = .full
            }
        }
        return spec
    }

    private func sessionTurns(_ node: ScenarioNode, _ path: [String], workload: ScenarioNode)
        throws(ScenarioError) -> SessionSpec.Turns
    {
        let expected = "a number of turns (4), a range (3..8) or from_dataset"
        guard let text = node.scalarText?.trimmingCharacters(in: .whitespaces) else {
            throw invalid(node, path, expected: expected)
        }
        if text == "from_dataset" {
            guard workload["dataset"] != nil else {
                throw error(
                    .conflict, at: node, path,
                    "from_dataset replays a dataset's conversations: set workload.dataset, or give a number of turns")
            }
            return .fromDataset
        }
        if let count = Int(text) {
            guard count >= 1 else { throw invalid(node, path, expected: expected) }
            return .range(count...count)
        }
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, let low = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            let high = Int(parts[1].trimmingCharacters(in: .whitespaces)), low >= 1, high >= low, high <= 1000
        else {
            throw invalid(node, path, expected: expected + ", from 1 to 1000 turns")
        }
        return .range(low...high)
    }
}
