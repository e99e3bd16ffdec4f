import Foundation

extension ScenarioDecoder {
    static let datasetKeys = [
        "path", "format", "sample", "seed", "turns", "output_tokens", "prompt_column", "output_column", "system_column",
    ]

    /// `workload.dataset: {path, format, sample, seed, turns, output_tokens, prompt_column, output_column,
    /// system_column}`: reads the file (relative to the scenario) and selects its prompts, or, with
    /// `turns: all`, its session scripts (see `DatasetSpec`, `DatasetSelection`). `seed` defaults to
    /// the workload's (else 1).
    func dataset(_ node: ScenarioNode, _ path: [String], workload: ScenarioNode, workloadSeed: Int?)
        throws(ScenarioError) -> (spec: DatasetSpec, selected: DatasetSelection.Selected)
    {
        try mapping(node, path, allowed: Self.datasetKeys)
        for other in ["prompts", "prompt_file", "synthetic"] {
            if let entry = workload.entry(other) {
                throw error(
                    .conflict, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                    ["workload", other],
                    "cannot be combined with workload.dataset: a run's prompts come from one source")
            }
        }
        guard let pathNode = node["path"] else {
            throw missing("path", in: node, path, "expected path: the dataset file, relative to the scenario")
        }
        let written = try nonEmptyString(pathNode, path + ["path"], expected: "a path to a dataset file")
        guard let formatNode = node["format"] else {
            throw missing(
                "format", in: node, path,
                "expected format: " + DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let format = try choice(formatNode, path + ["format"], DatasetFormat.allCases.map { ($0.rawValue, $0) })
        var spec = DatasetSpec(path: written, format: format, seed: UInt64(bitPattern: Int64(workloadSeed ?? 1)))
        if let sampleNode = node["sample"] { spec.sample = try integer(sampleNode, path + ["sample"], minimum: 1) }
        if let seedNode = node["seed"] {
            guard let text = seedNode.scalarText, let seed = UInt64(text) else {
                throw invalid(seedNode, path + ["seed"], expected: "a whole number ≥ 0")
            }
            spec.seed = seed
        }
        let fromDataset =
            workload["sessions"]?["turns"]?.scalarText?.trimmingCharacters(in: .whitespaces)
            == "from_dataset"
        if let turnsNode = node["turns"] {
            spec.turns = try choice(turnsNode, path + ["turns"], DatasetTurns.allCases.map { ($0.rawValue, $0) })
            if spec.turns == .all, !format.isConversational {
                throw error(
                    .conflict, at: turnsNode, path + ["turns"],
                    "a \(format.rawValue) dataset holds one prompt per record; turns: all needs sharegpt or openai-chat"
                )
            }
            if spec.turns == .all, !fromDataset {
                // A later turn sent alone answers a question nobody asked ("and the second one?"):
                // it would measure a workload the dataset never recorded, so it is refused.
                throw error(
                    .conflict, at: turnsNode, path + ["turns"],
                    "turns: all replays each conversation as a multi-turn session: add workload.sessions: "
                        + "{turns: from_dataset}, or use turns: first")
            }
            if spec.turns == .first, fromDataset {
                throw error(
                    .conflict, at: turnsNode, path + ["turns"],
                    "workload.sessions.turns: from_dataset replays every turn of each conversation: use turns: all "
                        + "(or leave turns out)")
            }
        } else if fromDataset {
            guard format.isConversational else {
                throw error(
                    .conflict, at: formatNode, path + ["format"],
                    "workload.sessions.turns: from_dataset needs conversations: a \(format.rawValue) dataset holds "
                        + "one prompt per record")
            }
            spec.turns = .all
        }
        if let outputNode = node["output_tokens"] {
            spec.outputTokensFromDataset = try choice(outputNode, path + ["output_tokens"], [("from_dataset", true)])
        }
        for key in ["prompt_column", "output_column", "system_column"] {
            guard let columnNode = node[key] else { continue }
            guard format == .csv else {
                throw error(.conflict, at: columnNode, path + [key], "applies to format: csv only")
            }
            let name = try nonEmptyString(columnNode, path + [key], expected: "a column name from the header row")
            switch key {
            case "prompt_column": spec.promptColumn = name
            case "output_column": spec.outputColumn = name
            default: spec.systemColumn = name
            }
        }
        let resolved = resolvedPath(written)
        let contents: DatasetReader.Contents
        switch DatasetReader.read(path: resolved, spec: spec) {
        case .success(let value): contents = value
        case .failure(let failure): throw error(.referencedFile, at: pathNode, path + ["path"], failure.description)
        }
        switch DatasetSelection.select(contents, spec: spec, path: resolved) {
        case .success(let selected):
            spec.sha256 = contents.sha256
            spec.conversationCount = contents.recordCount
            spec.usedCount = selected.prompts.count
            spec.skipped = selected.skipped
            return (spec, selected)
        case .failure(let failure):
            if failure.message.hasPrefix("sample:"), let sampleNode = node["sample"] {
                throw error(.invalidValue, at: sampleNode, path + ["sample"], failure.description)
            }
            throw error(.referencedFile, at: pathNode, path + ["path"], failure.description)
        }
    }
}
