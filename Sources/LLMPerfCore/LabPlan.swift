import Foundation

/// Choosing and adapting the scenarios `llmperf lab` runs.
public enum LabPlan {
    public struct SelectionError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The scenarios `--only a,b` names, in `available` order. Names are the scenario files'
    /// base names; an unknown one is an error listing the valid names (with a did-you-mean).
    public static func select(only: [String], available: [String]) throws(SelectionError) -> [String] {
        let wanted = only.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !only.isEmpty else { return available }
        guard !wanted.isEmpty else {
            throw SelectionError(description: "--only: name at least one of \(available.joined(separator: ", "))")
        }
        for name in wanted where !available.contains(name) {
            var message = "--only: no optimization named '\(name)'"
            if let suggestion = ScenarioSuggestion.closest(to: name, in: available) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "."
            }
            message += " The valid names are: \(available.joined(separator: ", "))"
            throw SelectionError(description: message)
        }
        return available.filter { wanted.contains($0) }
    }

    /// The order the lab runs and lists its scenarios in: client-side ones first (they need no
    /// backend switches and are the cheapest), then by name.
    public static func ordered(_ scenarios: [(name: String, side: LabSide)]) -> [String] {
        scenarios.sorted { a, b in
            if a.side != b.side { return a.side == .client }
            return a.name < b.name
        }.map(\.name)
    }

    /// `--header 'Name: value'`, with `${VAR}` expanded from `environment` as in scenarios. The
    /// header is secret (never stored or shown) when it named a variable or its name looks like
    /// a credential.
    public static func header(_ text: String, environment: [String: String]) throws(SelectionError) -> HeaderSpec {
        guard let colon = text.firstIndex(of: ":") else {
            throw SelectionError(description: "--header: expected 'Name: value', got '\(text)'")
        }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces)
        let template = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        let tokenSymbols = Set("!#$%&'*+-.^_`|~")
        guard !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || tokenSymbols.contains($0)) })
        else {
            throw SelectionError(description: "--header: '\(name)' is not a header name")
        }
        let expansion = try expand(template, what: "--header \(name)", environment: environment)
        let isSecret = !expansion.variables.isEmpty || ScenarioDecoder.isSecretHeaderName(name)
        return HeaderSpec(name: name, value: expansion.value, template: template, isSecret: isSecret)
    }

    /// A `${VAR}` template given on the command line (`--target`, `--model`).
    public static func expand(_ template: String, what: String, environment: [String: String])
        throws(SelectionError) -> (value: String, variables: [String])
    {
        switch ScenarioTemplate.expand(template, environment: environment) {
        case .success(let expansion): return (expansion.value, expansion.variables)
        case .failure(.missingVariable(let name)):
            throw SelectionError(description: "\(what): environment variable \(name) is not set")
        case .failure(.malformed(let message)):
            throw SelectionError(description: "\(what): \(message)")
        }
    }

    /// `--target URL`: expanded like a scenario's `target.url`, and it must be http(s) with a
    /// host. Also returns how the URL may be shown: the template when it named a variable.
    public static func targetURL(_ template: String, environment: [String: String])
        throws(SelectionError) -> (value: String, shown: String)
    {
        let expansion = try expand(template, what: "--target", environment: environment)
        guard TargetSpec.isHTTPURL(expansion.value) else {
            throw SelectionError(
                description:
                    "--target: expected an http or https URL such as https://api.example.com/v1, got '\(expansion.value)'"
            )
        }
        return (expansion.value, expansion.variables.isEmpty ? expansion.value : template)
    }

    /// `scenario` sent to `url` (an OpenAI base URL such as https://host/v1) as `model` with
    /// `headers` instead of its own target; connection policy, HTTP version, API and timeouts
    /// stay. `workload.extra_body` is dropped: its fields (such as `ignore_eos`) are extensions
    /// of the bundled backend and vLLM that other endpoints refuse. The stored YAML says all
    /// this in a comment (secret header values redacted) and the hash covers the new target.
    public static func retargeted(
        _ scenario: Scenario, url: String, shownURL: String? = nil, model: String, headers: [HeaderSpec]
    ) -> Scenario {
        var copy = scenario
        copy.target.url = url
        copy.target.shownURL = shownURL ?? url
        copy.target.backend = nil
        copy.target.model = model
        copy.target.headers = headers
        copy.target.tls = TLSOptions()
        copy.workload.extraBody = []
        let shownHeaders = headers.map { "\($0.name): \($0.isSecret ? "<redacted>" : $0.value)" }
        var comment = "# llmperf lab --target: sent to \(shownURL ?? url) as model \(model)"
        if !shownHeaders.isEmpty { comment += " with headers " + shownHeaders.joined(separator: "; ") }
        comment += " (this file's target section was not used"
        if !scenario.workload.extraBody.isEmpty { comment += ", nor workload.extra_body" }
        comment += ")\n"
        copy.redactedYAML = comment.replacingOccurrences(of: "\r", with: " ") + scenario.redactedYAML
        copy.hash = ScenarioDigest.sha256Hex(ScenarioCanonicalForm.render(copy))
        return copy
    }

    /// `scenario` with its local transformer backend started on `device` (`llmperf lab --device`): the option
    /// `device` set (replacing the scenario's own), noted in the stored YAML, and the hash recomputed. A scenario
    /// without a local transformer backend comes back as it is.
    public static func onDevice(_ scenario: Scenario, device: String) -> Scenario {
        guard var backend = scenario.target.backend, backend.engine == "transformer" else { return scenario }
        var copy = scenario
        backend.options.removeAll { $0.key == "device" }
        backend.options.append((key: "device", value: device))
        copy.target.backend = backend
        let comment = "# llmperf lab --device \(device): the local backend ran on this device\n"
        copy.redactedYAML = comment.replacingOccurrences(of: "\r", with: " ") + scenario.redactedYAML
        copy.hash = ScenarioDigest.sha256Hex(ScenarioCanonicalForm.render(copy))
        return copy
    }
}
