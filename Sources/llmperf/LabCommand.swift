import ArgumentParser
import Foundation
import InferenceEngine
import LLMPerfCore
import LLMPerfReport
import LLMPerfRunner

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
            significant, with a plain sentence for each one that did not help. --device vulkan runs \
            every case's bundled backend on a Vulkan device (llmperf serve --device). --target sends the \
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
    @Option(
        help: ComputeDevice.help(
            "Where the bundled backend's forward passes run, in every case (default: each scenario's own, the cpu)"))
    var device: ComputeDevice?
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
        if target != nil && device != nil {
            throw ValidationError("--device applies to the bundled backend, not --target")
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
        let endpoint = try target.map {
            try LabEndpoint(target: $0, model: model ?? "", headers: headers, environment: environment)
        }
        let (runnable, skipped) = LabCatalog.split(cases, endpoint: endpoint)
        let pipeline = RunPipeline(
            wiring: .live(try openStore(database)), batchID: StoredRun.newBatchID(),
            gitCommit: GitCommit.of(directory: dir), progress: progressMode(quiet: quiet),
            interrupts: InterruptHandler())
        let session = LabSession(
            pipeline: pipeline, labels: labels, requests: requests, endpoint: endpoint, device: device?.description)
        if !skipped.isEmpty {
            session.note(
                "--target runs the client-side optimizations only; skipping \(skipped.joined(separator: ", "))")
        }
        let (summary, failure) = session.summary(of: await session.run(cases: runnable), skipped: skipped)
        if json {
            print(try summary.json())
        } else {
            print(summary.text(style: .stdout), terminator: "")
        }
        if let report {
            try writeText(summary.report(forPath: report), to: report)
            FileHandle.standardError.write(Data("wrote \(report)\n".utf8))
        }
        if let failure { throw failure }
    }
}
