import Foundation

/// The text `Scenario.hash` is taken of: every resolved setting that changes what is sent or
/// how (target, workload with every prompt, load), one `key=value` line each in a fixed
/// order, strings JSON-quoted. Left out: name, variant, slo, and secrets — secret header
/// values appear as `<redacted>` and user:password in the URL is dropped; `tls.ca_file`
/// contributes its file name only, so the same scenario hashes alike on every machine.
enum ScenarioCanonicalForm {
    static func render(_ scenario: Scenario) -> String {
        var lines: [String] = ["format=1"]
        func add(_ key: String, _ value: String) { lines.append("\(key)=\(value)") }
        let quoted = JSONQuoting.quoted
        func optional(_ value: String?) -> String { value.map(quoted) ?? "null" }
        func duration(_ value: Duration?) -> String {
            guard let value else { return "null" }
            let (seconds, attoseconds) = value.components
            return "\(seconds)s+\(attoseconds)as"
        }

        let target = scenario.target
        add("target.url", optional(target.url.map(withoutUserInfo)))
        if let backend = target.backend {
            add("target.backend.engine", quoted(backend.engine))
            add("target.backend.model", optional(backend.model))
            add("target.backend.tls", "\(backend.tls)")
            for option in backend.options {
                add("target.backend.option", quoted(option.key) + ":" + quoted(option.value))
            }
        }
        add("target.api", target.api.rawValue)
        add("target.model", quoted(target.model))
        for header in target.headers {
            add("target.header", quoted(header.name) + ":" + quoted(header.isSecret ? "<redacted>" : header.value))
        }
        add("target.tls.ca_file", optional(target.tls.caFile.map { ($0 as NSString).lastPathComponent }))
        add("target.tls.insecure", "\(target.tls.insecure)")
        add("target.connection", target.connection.rawValue)
        add("target.http", target.http.rawValue)
        add("target.timeouts.connect", duration(target.timeouts.connect))
        add("target.timeouts.first_token", duration(target.timeouts.firstToken))
        add("target.timeouts.idle", duration(target.timeouts.idle))
        add("target.timeouts.total", duration(target.timeouts.total))

        let workload = scenario.workload
        // A prompt's history and own length only when set, so that scenarios without them keep their hashes.
        func addPrompt(_ key: String, _ prompt: Prompt) {
            add(key, optional(prompt.system) + ":" + quoted(prompt.user))
            for exchange in prompt.history {
                add(key + ".history", quoted(exchange.user) + ":" + quoted(exchange.assistant))
            }
            if let maxTokens = prompt.maxTokens { add(key + ".max_tokens", "\(maxTokens)") }
        }
        if let dataset = workload.dataset {
            // The file's digest and what selects from it stand for its prompts (and scripts): writing out
            // 100,000 conversations would cost more than the rest of the load. `workload.system`, which
            // fills in prompts without a system message, and the reader's version go in too.
            add("workload.dataset.reader", "1")
            add("workload.dataset.sha256", dataset.sha256)
            add("workload.dataset.format", dataset.format.rawValue)
            add("workload.dataset.sample", dataset.sample.map { "\($0)" } ?? "null")
            add("workload.dataset.seed", "\(dataset.seed)")
            add("workload.dataset.turns", dataset.turns.rawValue)
            add("workload.dataset.output_tokens", dataset.outputTokensFromDataset ? "from_dataset" : "null")
            if dataset.format == .csv {
                add("workload.dataset.prompt_column", quoted(dataset.promptColumn))
                add("workload.dataset.output_column", quoted(dataset.outputColumn))
                add("workload.dataset.system_column", optional(dataset.systemColumn))
            }
            add("workload.dataset.system", optional(dataset.workloadSystem))
        } else {
            for prompt in workload.prompts { addPrompt("workload.prompt", prompt) }
        }
        add("workload.max_tokens", workload.maxTokens.map { "\($0)" } ?? "null")
        add("workload.temperature", workload.temperature.map { "\($0)" } ?? "null")
        add("workload.seed", workload.seed.map { "\($0)" } ?? "null")
        add("workload.stream", "\(workload.stream)")
        add("workload.include_usage", "\(workload.includeUsage)")
        // Only when set, so that scenarios without it keep their hashes.
        if !workload.extraBody.isEmpty { add("workload.extra_body", RequestBodyField.objectText(workload.extraBody)) }
        if let effort = workload.reasoningEffort { add("workload.reasoning.effort", effort.rawValue) }
        if let budget = workload.reasoningBudgetTokens { add("workload.reasoning.budget_tokens", "\(budget)") }
        // `reasoning: {}` (Ollama's think: true) sets neither: it still changes what is sent.
        if workload.reasoningRequested && workload.reasoningEffort == nil && workload.reasoningBudgetTokens == nil {
            add("workload.reasoning", "{}")
        }
        if !workload.tools.isEmpty { add("workload.tools", RequestBodyValue.array(workload.tools).jsonText) }
        if let choice = workload.toolChoice { add("workload.tool_choice", choice.jsonText) }
        if workload.batch != 1 { add("workload.batch", "\(workload.batch)") }
        // Only when set, so that scenarios without them keep their hashes. An exact tokenizer rewrites the
        // synthetic prompts at run time, so the spec they come from is part of the workload; a tokenizer file
        // contributes its name only, like tls.ca_file.
        if workload.tokenizer != .words {
            switch workload.tokenizer {
            case .file(let path): add("workload.tokenizer", "file " + quoted((path as NSString).lastPathComponent))
            default: add("workload.tokenizer", workload.tokenizer.text)
            }
        }
        if let synthetic = workload.synthetic, workload.tokenizer != .words || synthetic.sharedPrefixTokens > 0 {
            add(
                "workload.synthetic",
                "\(synthetic.inputTokensMean)±\(synthetic.inputTokensStddev) x\(synthetic.count) prefix "
                    + "\(synthetic.sharedPrefixTokens) in \(synthetic.prefixGroups)")
        }
        if let sessions = workload.sessions {
            switch sessions.turns {
            case .range(let range): add("workload.sessions.turns", "\(range.lowerBound)..\(range.upperBound)")
            case .fromDataset: add("workload.sessions.turns", "from_dataset")
            }
            add("workload.sessions.think_time", "\(sessions.thinkTimeMeanNanos)ns±\(sessions.thinkTimeStddevNanos)ns")
            switch sessions.history {
            case .full: add("workload.sessions.history", "full")
            case .window(let n): add("workload.sessions.history", "window \(n)")
            }
            for (index, script) in workload.sessionScripts.enumerated() where workload.dataset == nil {
                for prompt in script { addPrompt("workload.sessions.script.\(index)", prompt) }
            }
        }
        // Only when set: a scenario without it keeps its hash. The nonce itself changes from run to
        // run by design; the mode is what makes two runs' workloads the same.
        if workload.cacheBust != .none { add("workload.cache_bust", workload.cacheBust.rawValue) }

        let load = scenario.load
        switch load.shape {
        case .closed(let concurrency):
            add("load.concurrency", "\(concurrency)")
        case .open(let rate, let arrival, let maxConcurrency):
            add("load.rate", "\(rate)")
            add("load.arrival", arrival.rawValue)
            add("load.max_concurrency", maxConcurrency.map { "\($0)" } ?? "null")
        case .replay(let spec):
            // The trace's bytes decide the schedule and the lengths; the path does not (a copy elsewhere
            // is the same workload, another file under the same name is not).
            add("load.replay.format", spec.format.rawValue)
            add("load.replay.sha256", spec.digest)
            add("load.replay.speed", "\(spec.speed)")
            add("load.replay.limit", spec.limit.map { "\($0)" } ?? "null")
        }
        switch load.stop {
        case .requests(let count): add("load.requests", "\(count)")
        case .duration(let value): add("load.duration", duration(value))
        }
        add("load.warmup", "\(load.warmup)")
        add("load.seed", "\(load.seed)")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func withoutUserInfo(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil else {
            return url
        }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }
}
