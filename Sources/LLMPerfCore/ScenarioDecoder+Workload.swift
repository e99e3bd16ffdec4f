import Foundation

extension ScenarioDecoder {
    static let workloadKeys = [
        "prompts", "prompt_file", "system", "synthetic", "max_tokens", "temperature", "seed", "stream", "include_usage",
        "extra_body", "reasoning", "tools", "tool_choice", "batch", "sessions", "tokenizer",
        "cache_bust", "dataset",
    ]

    /// Request body fields llmperf writes itself, and the setting that controls each.
    static let clientBodyFields: [(field: String, setting: String)] = [
        ("model", "target.model"), ("messages", "the prompts"), ("prompt", "the prompts"),
        ("max_tokens", "workload.max_tokens"), ("temperature", "workload.temperature"), ("seed", "workload.seed"),
        ("stream", "workload.stream"), ("stream_options", "workload.include_usage"),
        ("reasoning_effort", "workload.reasoning.effort"), ("tools", "workload.tools"),
        ("tool_choice", "workload.tool_choice"), ("system", "workload.system or the prompts"),
        ("thinking", "workload.reasoning.budget_tokens"), ("input", "the prompts"),
        ("instructions", "workload.system or the prompts"), ("max_output_tokens", "workload.max_tokens"),
        ("n_predict", "workload.max_tokens"), ("inputs", "the prompts"),
        ("parameters", "workload.max_tokens, temperature, seed or extra_body's other keys"),
        ("max_new_tokens", "workload.max_tokens"), ("details", "nothing: llmperf always asks TGI for details"),
    ]

    /// `replays`: the load replays a trace, whose rows are the prompts (no prompt source is needed).
    func workload(_ node: ScenarioNode, api: APIKind = .openAIChat, replays: Bool = false) throws(ScenarioError)
        -> WorkloadSpec
    {
        let path = ["workload"]
        try mapping(node, path, allowed: Self.workloadKeys)
        var spec = WorkloadSpec(prompts: [])
        if let seedNode = node["seed"] { spec.seed = try anyInteger(seedNode, path + ["seed"]) }
        if let maxNode = node["max_tokens"] { spec.maxTokens = try integer(maxNode, path + ["max_tokens"], minimum: 1) }
        if let temperatureNode = node["temperature"] {
            spec.temperature = try number(
                temperatureNode, path + ["temperature"], in: 0...2, expected: "a number from 0 to 2")
        }
        if let streamNode = node["stream"] { spec.stream = try bool(streamNode, path + ["stream"]) }
        if let usageNode = node["include_usage"] {
            if api.isOllama {
                throw error(
                    .conflict, at: usageNode, path + ["include_usage"],
                    "the \(api.rawValue) API has no such setting: Ollama always reports its counts "
                        + "(prompt_eval_count, eval_count) in the last line of the answer")
            }
            spec.includeUsage = try bool(usageNode, path + ["include_usage"])
        }
        if let extraNode = node["extra_body"] {
            spec.extraBody = try extraBody(extraNode, path + ["extra_body"])
            if api.isOllama, let entry = extraNode.entries?.first(where: { ["options", "think"].contains($0.key) }) {
                throw error(
                    .conflict, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                    path + ["extra_body", entry.key],
                    "llmperf sets this field itself on the \(api.rawValue) API; use workload.max_tokens, "
                        + "temperature and seed (sent in options) or workload.reasoning (sent as think) instead")
            }
        }
        try embeddingRules(node, path, api: api, into: &spec)
        try toolsAndReasoning(node, path, api: api, into: &spec)
        if api == .openAIResponses, spec.reasoningEffort != nil,
            let entry = node["extra_body"]?.entry("reasoning"), !entry.value.isNull
        {
            throw error(
                .conflict, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                path + ["extra_body", "reasoning"],
                "the openai-responses API's reasoning object is set from workload.reasoning.effort; set one of them")
        }

        if let tokenizerNode = node["tokenizer"] { spec.tokenizer = try tokenizer(tokenizerNode, path + ["tokenizer"]) }
        var prompts: [Prompt] = []
        if let promptsNode = node["prompts"] {
            let items = try promptList(promptsNode, path + ["prompts"])
            prompts += items
        }
        if let fileNode = node["prompt_file"] {
            prompts += try promptFile(fileNode, path + ["prompt_file"])
        }
        if let syntheticNode = node["synthetic"] {
            let synthetic = try syntheticSpec(syntheticNode, path + ["synthetic"])
            let seed = UInt64(bitPattern: Int64(spec.seed ?? 1))
            let start = prompts.count
            prompts += SyntheticPromptGenerator.prompts(for: synthetic, seed: seed)
            spec.synthetic = synthetic
            spec.syntheticPromptIndices = start..<prompts.count
            // DESIGN §4 writes the output length next to the input length; it is max_tokens.
            if let outputEntry = syntheticNode.entry("output_tokens") {
                let outputPath = path + ["synthetic", "output_tokens"]
                if node["max_tokens"] != nil {
                    throw error(
                        .conflict, line: outputEntry.keyLine, column: outputEntry.keyColumn,
                        origin: outputEntry.value.variant, outputPath, "cannot be combined with workload.max_tokens")
                }
                spec.maxTokens = try integer(outputEntry.value, outputPath, minimum: 1)
            }
        }
        if replays {
            for key in ["prompts", "prompt_file", "synthetic", "sessions", "dataset"] {
                if let entry = node.entry(key) {
                    throw error(
                        .conflict, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                        path + [key], "cannot be combined with load.replay: the trace's rows are the prompts")
                }
            }
        }
        if let datasetNode = node["dataset"] {
            let (dataset, selected) = try self.dataset(
                datasetNode, path + ["dataset"], workload: node, workloadSeed: spec.seed)
            prompts = selected.prompts
            spec.sessionScripts = selected.scripts
            spec.dataset = dataset
        }
        guard
            replays || node["prompts"] != nil || node["prompt_file"] != nil || node["synthetic"] != nil
                || node["dataset"] != nil
        else {
            throw error(
                .missingKey, at: node, path,
                "expected at least one prompt source: prompts, prompt_file, synthetic or dataset")
        }
        if let systemNode = node["system"] {
            let system = try string(systemNode, path + ["system"])
            spec.dataset?.workloadSystem = system
            for index in prompts.indices where prompts[index].system == nil { prompts[index].system = system }
            for script in spec.sessionScripts.indices {
                for index in spec.sessionScripts[script].indices where spec.sessionScripts[script][index].system == nil
                {
                    spec.sessionScripts[script][index].system = system
                }
            }
        }
        spec.prompts = prompts
        if let sessionsNode = node["sessions"] {
            spec.sessions = try sessions(sessionsNode, path + ["sessions"], workload: node, api: api)
        }
        if let bustNode = node["cache_bust"] {
            guard let text = bustNode.scalarText, let bust = CacheBust(rawValue: text) else {
                throw invalid(
                    bustNode, path + ["cache_bust"],
                    expected: "none, per_run (a nonce per run: a rerun misses the last run's prefix cache) or "
                        + "per_request (a nonce per request: nothing is shared)")
            }
            guard api.generates || bust == .none else {
                throw error(
                    .conflict, at: bustNode, path + ["cache_bust"],
                    "the \(api.rawValue) API has no prefix cache to defeat: it generates nothing")
            }
            spec.cacheBust = bust
        }
        if api == .anthropic && spec.maxTokens == nil {
            throw missing(
                "max_tokens", in: node, path, "the anthropic API requires max_tokens: set workload.max_tokens")
        }
        return spec
    }

    /// `reasoning: {effort}`, `tools: [...]` and `tool_choice:`, for the dialects that take them.
    private func toolsAndReasoning(
        _ node: ScenarioNode, _ path: [String], api: APIKind, into spec: inout WorkloadSpec
    ) throws(ScenarioError) {
        let chatOnly = Self.chatOnly(api)
        if let reasoningNode = node["reasoning"] {
            let reasoningPath = path + ["reasoning"]
            try mapping(reasoningNode, reasoningPath, allowed: ["effort", "budget_tokens"])
            guard api.takesToolsAndReasoning else {
                throw error(.conflict, at: reasoningNode, reasoningPath, chatOnly)
            }
            spec.reasoningRequested = true
            if api.isOllama {
                // Ollama's `think`: true, or a level (low, medium, high) for the models that take one.
                if let budgetNode = reasoningNode["budget_tokens"] {
                    throw error(
                        .conflict, at: budgetNode, reasoningPath + ["budget_tokens"],
                        "the \(api.rawValue) API has no thinking budget: leave reasoning empty ({}) to send "
                            + "think: true, or set effort (low, medium or high) to send it as think's level")
                }
                if let effortNode = reasoningNode["effort"] {
                    spec.reasoningEffort = try choice(
                        effortNode, reasoningPath + ["effort"], ReasoningEffort.allCases.map { ($0.rawValue, $0) })
                }
                return try ollamaTools(node, path, api: api, into: &spec)
            }
            if api != .anthropic, let budgetNode = reasoningNode["budget_tokens"] {
                let field = api == .openAIResponses ? "reasoning.effort" : "reasoning_effort"
                throw error(
                    .conflict, at: budgetNode, reasoningPath + ["budget_tokens"],
                    "a thinking budget in tokens is Anthropic's setting; the \(api.rawValue) API takes effort "
                        + "(low, medium or high), sent as \(field)")
            }
            if api == .anthropic, let effortNode = reasoningNode["effort"] {
                throw error(
                    .conflict, at: effortNode, reasoningPath + ["effort"],
                    "the anthropic API takes a thinking budget: set budget_tokens (sent as thinking.budget_tokens)")
            }
            if api == .anthropic {
                guard let budgetNode = reasoningNode["budget_tokens"] else {
                    throw missing(
                        "budget_tokens", in: reasoningNode, reasoningPath,
                        "expected budget_tokens: N (Anthropic's thinking budget, at least 1024)")
                }
                let budget = try integer(budgetNode, reasoningPath + ["budget_tokens"], minimum: 1024)
                if let maxTokens = spec.maxTokens, budget >= maxTokens {
                    throw error(
                        .conflict, at: budgetNode, reasoningPath + ["budget_tokens"],
                        "must be less than workload.max_tokens (\(maxTokens)): the thinking budget is part of it")
                }
                spec.reasoningBudgetTokens = budget
            } else {
                guard let effortNode = reasoningNode["effort"] else {
                    throw missing("effort", in: reasoningNode, reasoningPath, "expected effort: low, medium or high")
                }
                spec.reasoningEffort = try choice(
                    effortNode, reasoningPath + ["effort"], ReasoningEffort.allCases.map { ($0.rawValue, $0) })
            }
        }
        if api.isOllama { return try ollamaTools(node, path, api: api, into: &spec) }
        try tools(node, path, api: api, into: &spec)
    }

    /// Ollama: tools on `/api/chat` only, and no `tool_choice` (Ollama has none).
    private func ollamaTools(
        _ node: ScenarioNode, _ path: [String], api: APIKind, into spec: inout WorkloadSpec
    ) throws(ScenarioError) {
        if let choiceNode = node["tool_choice"] {
            throw error(
                .conflict, at: choiceNode, path + ["tool_choice"],
                "the \(api.rawValue) API has no tool_choice: the model decides whether to call a tool")
        }
        if api == .ollamaGenerate, let toolsNode = node["tools"] {
            throw error(
                .conflict, at: toolsNode, path + ["tools"],
                "the ollama-generate API (/api/generate) takes no tools; use target.api ollama (/api/chat)")
        }
        try tools(node, path, api: api, into: &spec)
    }

    /// Why `reasoning`, `tools` or `tool_choice` is refused on `api`.
    static func chatOnly(_ api: APIKind) -> String {
        "applies to target.api openai-chat, openai-responses, anthropic, ollama or ollama-generate; the "
            + "\(api.rawValue) API has no such field"
    }

    /// `tools:` and `tool_choice:`.
    private func tools(
        _ node: ScenarioNode, _ path: [String], api: APIKind, into spec: inout WorkloadSpec
    ) throws(ScenarioError) {
        let chatOnly = Self.chatOnly(api)
        if let toolsNode = node["tools"] {
            let toolsPath = path + ["tools"]
            guard api.takesToolsAndReasoning else { throw error(.conflict, at: toolsNode, toolsPath, chatOnly) }
            let expected = "a list of function tools, each {type: function, function: {name: ..., parameters: ...}}"
            guard let items = toolsNode.items, !items.isEmpty else {
                throw invalid(toolsNode, toolsPath, expected: expected)
            }
            for (index, item) in items.enumerated() {
                let itemPath = toolsPath + ["\(index)"]
                try mapping(item, itemPath, allowed: nil, what: expected)
                guard let typeNode = item["type"] else {
                    throw missing("type", in: item, itemPath, "expected type: function")
                }
                guard typeNode.scalarText == "function" else {
                    throw invalid(typeNode, itemPath + ["type"], expected: "function")
                }
                guard let functionNode = item["function"] else {
                    throw missing("function", in: item, itemPath, "expected function: {name: ..., parameters: ...}")
                }
                try mapping(functionNode, itemPath + ["function"], allowed: nil)
                guard let nameNode = functionNode["name"] else {
                    throw missing("name", in: functionNode, itemPath + ["function"])
                }
                _ = try nonEmptyString(nameNode, itemPath + ["function", "name"], expected: "the function's name")
                spec.tools.append(bodyValue(item))
            }
        }
        if let choiceNode = node["tool_choice"] {
            let choicePath = path + ["tool_choice"]
            guard api.takesToolsAndReasoning else { throw error(.conflict, at: choiceNode, choicePath, chatOnly) }
            guard !spec.tools.isEmpty else {
                throw error(.conflict, at: choiceNode, choicePath, "needs workload.tools to choose from")
            }
            let names = (node["tools"]?.items ?? []).compactMap { $0["function"]?["name"]?.scalarText }
            if choiceNode.scalarText != nil {
                spec.toolChoice = try choice(
                    choiceNode, choicePath, ["auto", "none", "required"].map { ($0, RequestBodyValue.string($0)) })
            } else {
                let expected = "auto, none, required, or {type: function, function: {name: ...}}"
                try mapping(choiceNode, choicePath, allowed: ["type", "function"], what: expected)
                guard choiceNode["type"]?.scalarText == "function",
                    let name = choiceNode["function"]?["name"]?.scalarText
                else { throw invalid(choiceNode, choicePath, expected: expected) }
                guard names.contains(name) else {
                    throw error(
                        .invalidValue, at: choiceNode, choicePath + ["function", "name"],
                        "'\(name)' is not one of workload.tools (\(names.joined(separator: ", ")))")
                }
                spec.toolChoice = bodyValue(choiceNode)
            }
        }
    }

    /// `extra_body:` a mapping merged into every request body. Null values are dropped (as a
    /// variant's null drops a key); keys llmperf writes itself are refused.
    private func extraBody(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> [RequestBodyField] {
        let entries = try mapping(
            node, path, allowed: nil, what: "a mapping of request body fields, such as {ignore_eos: true}")
        var fields: [RequestBodyField] = []
        for entry in entries where !entry.value.isNull {
            if let reserved = Self.clientBodyFields.first(where: { $0.field == entry.key }) {
                throw error(
                    .conflict, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant,
                    path + [entry.key], "llmperf sets this field itself; use \(reserved.setting) instead")
            }
            fields.append(RequestBodyField(key: entry.key, value: bodyValue(entry.value)))
        }
        return fields
    }

    private func bodyValue(_ node: ScenarioNode) -> RequestBodyValue {
        switch node.value {
        case .scalar(let text, let style, let isNull):
            if isNull { return .null }
            guard style == .plain else { return .string(text) }
            switch text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let integer = Int(text) { return .integer(integer) }
            if let number = ScenarioDecoder.parseNumber(text) { return .number(number) }
            return .string(text)
        case .sequence(let items): return .array(items.map(bodyValue))
        case .mapping(let entries):
            return .object(entries.map { RequestBodyField(key: $0.key, value: bodyValue($0.value)) })
        }
    }

    private func promptList(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> [Prompt] {
        let expected = "a list of prompts (strings, or mappings with user and optional system)"
        guard let items = node.items else { throw invalid(node, path, expected: expected) }
        guard !items.isEmpty else { throw invalid(node, path, expected: "at least one prompt") }
        var prompts: [Prompt] = []
        for (index, item) in items.enumerated() {
            let itemPath = path + ["\(index)"]
            if item.entries != nil {
                try mapping(item, itemPath, allowed: ["system", "user"])
                guard let userNode = item["user"] else { throw missing("user", in: item, itemPath) }
                let user = try nonEmptyString(userNode, itemPath + ["user"], expected: "the user message text")
                let system = try item["system"].map { (n: ScenarioNode) throws(ScenarioError) in
                    try string(n, itemPath + ["system"])
                }
                prompts.append(Prompt(system: system, user: user))
            } else {
                prompts.append(Prompt(user: try nonEmptyString(item, itemPath, expected: expected)))
            }
        }
        return prompts
    }

    private func promptFile(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> [Prompt] {
        let written = try nonEmptyString(node, path, expected: "a path to a .txt or .jsonl file")
        let format: ScenarioPromptFile.Format
        if written.hasSuffix(".txt") {
            format = .lines
        } else if written.hasSuffix(".jsonl") {
            format = .jsonLines
        } else {
            throw error(
                .invalidValue, at: node, path, "expected a .txt (one prompt per line) or .jsonl file, got '\(written)'")
        }
        let resolved = resolvedPath(written)
        switch ScenarioPromptFile.read(path: resolved, format: format) {
        case .success(let prompts): return prompts
        case .failure(let failure):
            throw error(.referencedFile, at: node, path, failure.message)
        }
    }

    private func syntheticSpec(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> SyntheticPromptSpec {
        try mapping(
            node, path, allowed: ["input_tokens", "count", "output_tokens", "shared_prefix_tokens", "prefix_groups"])
        guard let inputNode = node["input_tokens"] else { throw missing("input_tokens", in: node, path) }
        var spec = SyntheticPromptSpec(inputTokensMean: 1)
        if inputNode.entries != nil {
            let inputPath = path + ["input_tokens"]
            try mapping(inputNode, inputPath, allowed: ["mean", "stddev"])
            guard let meanNode = inputNode["mean"] else { throw missing("mean", in: inputNode, inputPath) }
            spec.inputTokensMean = try integer(meanNode, inputPath + ["mean"], minimum: 1)
            if let stddevNode = inputNode["stddev"] {
                spec.inputTokensStddev = try integer(stddevNode, inputPath + ["stddev"], minimum: 0)
            }
        } else {
            guard let text = inputNode.scalarText, let value = Int(text), value >= 1 else {
                throw invalid(inputNode, path + ["input_tokens"], expected: "a whole number > 0 or {mean, stddev}")
            }
            spec.inputTokensMean = value
        }
        if let countNode = node["count"] { spec.count = try integer(countNode, path + ["count"], minimum: 1) }
        if let prefixNode = node["shared_prefix_tokens"] {
            spec.sharedPrefixTokens = try integer(prefixNode, path + ["shared_prefix_tokens"], minimum: 1)
            if spec.inputTokensMean <= spec.sharedPrefixTokens {
                throw error(
                    .conflict, at: prefixNode, path + ["shared_prefix_tokens"],
                    "the prefix is part of each prompt: input_tokens (mean \(spec.inputTokensMean)) must be more "
                        + "than shared_prefix_tokens (\(spec.sharedPrefixTokens))")
            }
        }
        if let groupsNode = node["prefix_groups"] {
            guard node["shared_prefix_tokens"] != nil else {
                throw error(
                    .missingKey, at: groupsNode, path + ["prefix_groups"],
                    "prefix_groups needs shared_prefix_tokens (how long each group's prefix is)")
            }
            spec.prefixGroups = try integer(groupsNode, path + ["prefix_groups"], minimum: 1)
        }
        return spec
    }

    /// `tokenizer: default | words | PATH` (a `.gguf` or a `tokenizer.json`, relative to the scenario file).
    private func tokenizer(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> TokenizerChoice {
        let written = try nonEmptyString(
            node, path, expected: "default, words, or the path of a .gguf model or a tokenizer.json")
        switch written {
        case "default": return .bundledDefault
        case "words": return .words
        default:
            guard written.hasSuffix(".gguf") || written.hasSuffix(".json") else {
                throw error(
                    .invalidValue, at: node, path,
                    "expected default, words, or the path of a .gguf model or a tokenizer.json, got '\(written)'")
            }
            let resolved = resolvedPath(written)
            guard FileManager.default.fileExists(atPath: resolved) else {
                throw error(.referencedFile, at: node, path, "tokenizer file not found: \(resolved)")
            }
            return .file(resolved)
        }
    }
}
