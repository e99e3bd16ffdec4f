import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfStore

struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Measure each optimization before and after, and show what it moved.",
        discussion: """
            Runs every scenario in --dir, each with a lab section (scenarios/optimizations: streaming, \
            connection reuse, prompt shortening, response cache, prefix cache, batching, speculative \
            decoding, quantization): a baseline and optimized variants that start the bundled \
            backend with the right switches. Every run is stored (one batch, labels lab and \
            lab-NAME); the table shows, per optimization, the number it moves before and after, the \
            change, and whether the comparison (Mann-Whitney U, as llmperf compare) finds it \
            significant, with a plain sentence for each one that did not help. --target sends the \
            client-side optimizations to any endpoint instead and skips the others. Ctrl-C stops, \
            keeps what was stored and exits 130; exit 1 when an optimization could not be measured.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(
        help: ArgumentHelp(
            "Only these optimizations: scenario file base names, comma-separated (e.g. streaming,batching).",
            valueName: "names"))
    var only: [String] = []
    @Option(help: "Override every scenario's load.requests (measured requests per run).") var requests: Int?
    @Option(
        help: ArgumentHelp(
            "Also write the table and every comparison with its charts: PATH.html (self-contained) or PATH.md.",
            valueName: "path"))
    var report: String?
    @Option(
        help: ArgumentHelp(
            "Run the client-side optimizations against this OpenAI-compatible base URL (e.g. https://host/v1) "
                + "instead of the bundled backend; ${VAR} is expanded. Needs --model.",
            valueName: "url"))
    var target: String?
    @Option(help: "With --target: the model name sent in each request (${VAR} is expanded).") var model: String?
    @Option(
        name: .customLong("header"),
        help: ArgumentHelp(
            "With --target: a request header, 'Name: value' (${VAR} is expanded; a value that names a variable "
                + "or a credential header is never stored). Repeatable.", valueName: "header"))
    var headers: [String] = []
    @Option(help: "The directory of optimization scenarios.") var dir: String = "scenarios/optimizations"
    @Option(name: .customLong("label"), help: "Label every run (besides lab and lab-NAME). Repeatable.")
    var labels: [String] = []
    @Flag(help: "Print the results as JSON on standard output (progress stays on standard error).") var json = false
    @Flag(help: "No live progress line: a plain line every few seconds.") var quiet = false

    func validate() throws {
        if let requests, requests <= 0 { throw ValidationError("--requests must be > 0, got \(requests)") }
        try validateLabels(labels)
        if target == nil && (model != nil || !headers.isEmpty) {
            throw ValidationError("--model and --header apply to --target only")
        }
        if target != nil && model == nil {
            throw ValidationError("--target needs --model (the model name sent in each request)")
        }
        if let report, !(report.hasSuffix(".html") || report.hasSuffix(".md")) {
            throw ValidationError("--report: expected a file name ending in .html or .md, got '\(report)'")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let cases = try LabCatalog.load(directory: dir, only: only, environment: environment)
        var endpoint: LabEndpoint?
        if let target, let model {
            endpoint = try LabEndpoint(target: target, model: model, headers: headers, environment: environment)
        }
        let runnable = cases.filter { endpoint == nil || $0.spec.side == .client }
        let skipped = cases.filter { endpoint != nil && $0.spec.side == .server }.map(\.name)

        let store = try openStore(database)
        let session = LabSession(
            store: store, batchID: StoredRun.newBatchID(),
            labels: labels, requests: requests, endpoint: endpoint, gitCommit: GitCommit.of(directory: dir),
            interactive: !quiet && isatty(2) == 1, interrupts: InterruptHandler())
        if !skipped.isEmpty {
            session.note(
                "--target runs the client-side optimizations only; skipping \(skipped.joined(separator: ", "))")
        }
        var results: [LabCaseResult] = []
        for (index, labCase) in runnable.enumerated() {
            if session.interrupts.interrupted { break }
            session.note("[\(index + 1)/\(runnable.count)] \(labCase.name): \(labCase.spec.optimization)")
            let result = await session.run(labCase)
            results.append(result)
            for row in result.rows {
                session.note(
                    "  \(row.optimization): \(row.moves) \(row.beforeText) → \(row.afterText), change "
                        + "\(row.changeText), significant: \(row.significanceText)")
            }
        }

        let summary = LabSummary(
            batchID: session.batchID, results: results, skipped: skipped,
            interrupted: session.interrupts.interrupted)
        if json {
            print(try summary.json())
        } else {
            let style = TerminalStyle.detect(environment: environment, isTTY: isatty(1) == 1)
            print(summary.text(style: style), terminator: "")
        }
        if let report { try summary.write(report: report) }

        if session.interrupts.interrupted {
            throw CLIError(message: "lab interrupted; what was measured is stored", code: .interrupted)
        }
        let failed = results.filter { $0.failure != nil }.map(\.name)
        if !failed.isEmpty {
            throw CLIError.failure("could not measure \(failed.joined(separator: ", ")); see the messages above")
        }
    }
}

/// `--target`, `--model` and `--header`, expanded and checked.
struct LabEndpoint {
    var url: String
    var shownURL: String
    var model: String
    var headers: [HeaderSpec]

    init(target: String, model: String, headers: [String], environment: [String: String]) throws {
        do {
            (url, shownURL) = try LabPlan.targetURL(target, environment: environment)
            self.model = try LabPlan.expand(model, what: "--model", environment: environment).value
            self.headers = try headers.map { try LabPlan.header($0, environment: environment) }
        } catch {
            throw CLIError.invalid("\(error)")
        }
        guard !self.model.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CLIError.invalid("--model: expected a model name, got an empty one")
        }
    }
}

/// One scenario of the lab directory, loaded.
struct LabCase {
    /// The file's base name (what --only names).
    var name: String
    var document: ScenarioDocument
    var spec: LabSpec
}

/// Finds and loads the lab scenarios.
enum LabCatalog {
    /// The scenario files of `directory` named by `only` (all without it), loaded and in lab
    /// order. A missing directory, an unknown name or a scenario without a lab section is
    /// invalid input (exit 2).
    static func load(directory: String, only: [String], environment: [String: String]) throws -> [LabCase] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CLIError.invalid(
                "--dir: no such directory: \(directory) (run llmperf lab from the repository root, or pass --dir)")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var files: [String: String] = [:]
        for entry in entries.sorted() where entry.hasSuffix(".yml") || entry.hasSuffix(".yaml") {
            let name = (entry as NSString).deletingPathExtension
            if let earlier = files[name] {
                throw CLIError.invalid("\(directory): both \(earlier) and \(entry) are named '\(name)'; keep one")
            }
            files[name] = entry
        }
        guard !files.isEmpty else { throw CLIError.invalid("\(directory): no scenario files (*.yml)") }
        let selected: [String]
        do {
            selected = try LabPlan.select(only: only, available: files.keys.sorted())
        } catch {
            throw CLIError.invalid(error.description)
        }
        var cases: [LabCase] = []
        for name in selected {
            let path = (directory as NSString).appendingPathComponent(files[name]!)
            let document: ScenarioDocument
            do {
                document = try ScenarioLoader.load(path: path, environment: environment)
            } catch {
                throw CLIError.invalid(error.description)
            }
            guard let spec = document.lab else {
                throw CLIError.invalid("\(path): no lab section; llmperf lab needs one (see scenarios/optimizations)")
            }
            cases.append(LabCase(name: name, document: document, spec: spec))
        }
        let order = LabPlan.ordered(cases.map { (name: $0.name, side: $0.spec.side) })
        return order.compactMap { name in cases.first { $0.name == name } }
    }
}
