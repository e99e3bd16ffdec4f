import Foundation
import Yams

/// Loads scenario files (YAML, `version: 1`; DESIGN §4) into `ScenarioDocument`s.
///
/// Every problem is a `ScenarioError` naming the file, line and column, the key path and what
/// was expected. Loading stops at the first problem found, in document order: the root's keys,
/// then version, name, target, workload, load, slo, then each variant in file order.
///
/// Variants: each entry of `variants:` is the base document (without `variants`) deep-merged
/// with the entry's overrides — mappings merge key by key, scalars and lists replace, and a
/// null override (`concurrency: null` or `~`) removes the base's key — and is then validated as
/// a whole scenario. A variant cannot set version, name or variants. Errors in an override
/// point at the override and carry a `variants.<name>.` key path.
///
/// `lab:` (see `LabSpec`) belongs to the document, not to a run: it is decoded once, after the
/// variants it names, needs at least two of them, and cannot be set in a variant.
public enum ScenarioLoader {
    /// Reads and loads the scenario file at `path`; relative paths inside it (`prompt_file`,
    /// `tls.ca_file`) are resolved against the file's directory.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ScenarioError) -> ScenarioDocument {
        switch ScenarioFileReader.readText(path: path) {
        case .success(let text):
            return try load(yaml: text, path: path, environment: environment)
        case .failure(let failure):
            throw ScenarioError(kind: .unreadableFile, file: path, message: "cannot read \(path): \(failure.reason)")
        }
    }

    /// Loads scenario text as if it had been read from `path` (which names the file in errors
    /// and anchors relative paths; the file itself is not read).
    public static func load(
        yaml: String, path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ScenarioError) -> ScenarioDocument {
        let directory = (path as NSString).deletingLastPathComponent
        let decoder = ScenarioDecoder(file: path, directory: directory, environment: environment, variant: nil)
        let root = try compose(yaml: yaml, path: path)

        guard let rootEntries = root.entries else {
            throw decoder.invalid(root, [], expected: ScenarioDecoder.rootExpectation)
        }
        guard let variantsNode = root["variants"] else {
            if let labEntry = root.entry("lab") {
                try decoder.mapping(root, [], allowed: ScenarioDecoder.rootKeys, what: ScenarioDecoder.rootExpectation)
                throw decoder.error(
                    .invalidValue, line: labEntry.keyLine, column: labEntry.keyColumn, origin: nil, ["lab"],
                    "needs variants to compare (a baseline and an optimized one)")
            }
            return ScenarioDocument(path: path, runs: [try decoder.scenario(root)])
        }
        try decoder.mapping(root, [], allowed: ScenarioDecoder.rootKeys, what: ScenarioDecoder.rootExpectation)
        let variants = try decoder.mapping(
            variantsNode, ["variants"], allowed: nil, what: "a mapping of variant names to their overrides")
        guard !variants.isEmpty else {
            throw decoder.invalid(variantsNode, ["variants"], expected: "at least one variant")
        }
        var base = root
        base.value = .mapping(rootEntries.filter { $0.key != "variants" && $0.key != "lab" })

        var runs: [Scenario] = []
        for entry in variants {
            guard ScenarioDecoder.isName(entry.key) else {
                throw decoder.error(
                    .invalidValue, line: entry.keyLine, column: entry.keyColumn, origin: nil, ["variants", entry.key],
                    "expected a variant name of letters, digits, '-', '_' or '.'")
            }
            var override = entry.value.marked(variant: entry.key)
            if override.isNull { override.value = .mapping([]) }
            let overrideEntries = try decoder.mapping(
                override, [], allowed: nil, what: "a mapping of overrides (such as load: {concurrency: 8}) or {}")
            for item in overrideEntries where ["version", "name", "variants", "lab"].contains(item.key) {
                throw decoder.error(
                    .invalidValue, line: item.keyLine, column: item.keyColumn, origin: entry.key, [item.key],
                    "cannot be set in a variant")
            }
            try decoder.mapping(override, [], allowed: ScenarioDecoder.rootKeys, what: "a mapping of overrides")
            var variantDecoder = decoder
            variantDecoder.variant = entry.key
            runs.append(try variantDecoder.scenario(base.merged(with: override)))
        }
        var lab: LabSpec?
        if let labNode = root["lab"], let name = runs.first?.name {
            lab = try decoder.lab(labNode, scenarioName: name, variants: runs.compactMap(\.variant))
        }
        return ScenarioDocument(path: path, runs: runs, lab: lab)
    }

    // MARK: - YAML

    private static func compose(yaml: String, path: String) throws(ScenarioError) -> ScenarioNode {
        let composed: Node?
        do {
            composed = try Yams.compose(yaml: yaml)
        } catch let yamlError as YamlError {
            throw syntaxError(yamlError, yaml: yaml, path: path)
        } catch {
            throw ScenarioError(kind: .syntax, file: path, message: "invalid YAML: \(error)")
        }
        let emptyMessage = "the file is empty; expected a scenario mapping starting with version: 1"
        guard let composed else { throw ScenarioError(kind: .empty, file: path, message: emptyMessage) }
        switch ScenarioNode.from(composed) {
        case .success(let node):
            if node.isNull { throw ScenarioError(kind: .empty, file: path, message: emptyMessage) }
            return node
        case .failure(let failure):
            throw ScenarioError(
                kind: .syntax, file: path, line: failure.line, column: failure.column, message: failure.message)
        }
    }

    private static func syntaxError(_ error: YamlError, yaml: String, path: String) -> ScenarioError {
        func make(_ mark: Mark?, _ message: String) -> ScenarioError {
            ScenarioError(kind: .syntax, file: path, line: mark?.line, column: mark?.column, message: message)
        }
        func make(_ position: (line: Int, column: Int)?, _ message: String) -> ScenarioError {
            ScenarioError(kind: .syntax, file: path, line: position?.line, column: position?.column, message: message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if problem == "but found another document" {
                return make(mark, "expected a single YAML document, found a second one (remove the '---' line)")
            }
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at \(context.mark.line):\(context.mark.column))"
            }
            return make(mark, message)
        case .reader(let problem, let offset, _, _):
            return make(offset.flatMap { position(utf8Offset: $0, in: yaml) }, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            let position = repeatedKeyPosition(key, after: first, in: yaml) ?? (first.line, first.column)
            return make(
                position, "duplicate key '\(key)' (first written at \(context.mark.line):\(context.mark.column))")
        default:
            return make(nil as Mark?, "invalid YAML: \(error)")
        }
    }

    private static func position(utf8Offset: Int, in yaml: String) -> (line: Int, column: Int)? {
        var line = 1
        var column = 1
        var consumed = 0
        for scalar in yaml.unicodeScalars {
            if consumed >= utf8Offset { break }
            consumed += String(scalar).utf8.count
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// Yams reports a repeated key at its first occurrence; find the repetition in block style
    /// (the same key at the same column on a later line) to point at the line to fix.
    private static func repeatedKeyPosition(_ key: String, after first: Mark, in yaml: String) -> (
        line: Int, column: Int
    )? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let spellings = [key + ":", "\"\(key)\":", "'\(key)':"]
        for index in first.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let indent = first.column - 1
            guard scalars.count > indent else { continue }
            let leading = scalars[..<indent]
            if !leading.allSatisfy({ $0 == " " }) {
                // A shallower line ends the mapping.
                if scalars.prefix(indent).contains(where: { $0 != " " }) { break }
            }
            let rest = String(String.UnicodeScalarView(scalars[indent...]))
            if spellings.contains(where: { rest.hasPrefix($0) }) { return (index + 1, first.column) }
        }
        return nil
    }
}
