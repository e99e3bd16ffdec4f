import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfRunner

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Measure a scenario at several loads: the load curve, and where it breaks the slo.",
        discussion: """
            Each load is its own stored run (variant c<N> or r<R>, label sweep, all in one batch), measured \
            as `llmperf run` measures it: warmup, then the scenario's requests (or --requests). Each point is \
            checked against the scenario's slo section; the table marks the capacity (the highest load met, \
            counting up from the lowest until one breaks), the rules that broke first, and the points where \
            requests/s grew by less than 5% over the previous one (saturated). Ctrl-C keeps the points \
            measured and exits 130.
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The scenario file (YAML, version: 1), without variants.") var scenario: String
    @Option(help: "Closed-loop points: concurrencies, e.g. 1,2,4,8,16.") var concurrency: String?
    @Option(help: "Open-loop points: request rates per second, e.g. 1,2,5,10/s.") var rate: String?
    @Option(name: .customLong("label"), help: "Label the runs, besides sweep. Repeatable.") var labels: [String] = []
    @Option(help: "Override load.requests (measured requests per point).") var requests: Int?
    @Flag(help: "Print the sweep as JSON on standard output (progress stays on standard error).") var json = false
    @Flag(help: "No live progress line: a plain line every few seconds.") var quiet = false

    func validate() throws {
        if let requests, requests <= 0 { throw ValidationError("--requests must be > 0, got \(requests)") }
        try validateLabels(labels)
        _ = try loads()
    }

    /// The points, from --concurrency or --rate (exactly one of them).
    func loads() throws -> SweepLoads {
        switch (concurrency, rate) {
        case (let list?, nil):
            return .concurrency(try Self.parse(list, option: "--concurrency") { Int($0).flatMap { $0 > 0 ? $0 : nil } })
        case (nil, let list?):
            let rates = try Self.parse(list.hasSuffix("/s") ? String(list.dropLast(2)) : list, option: "--rate") {
                text in
                Double(text.hasSuffix("/s") ? String(text.dropLast(2)) : text).flatMap {
                    $0 > 0 && $0.isFinite ? $0 : nil
                }
            }
            return .rate(rates)
        case (nil, nil): throw ValidationError("give the points: --concurrency 1,2,4,… or --rate 1,2,5/s")
        case (.some, .some): throw ValidationError("--concurrency and --rate are two kinds of sweep: give one")
        }
    }

    static func parse<T: Comparable>(_ list: String, option: String, _ value: (String) -> T?) throws -> [T] {
        let items = list.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var values: [T] = []
        for item in items {
            guard let parsed = value(item) else {
                throw ValidationError("\(option): '\(item)' is not a positive number (in '\(list)')")
            }
            values.append(parsed)
        }
        guard (1...64).contains(values.count) else {
            throw ValidationError("\(option): 1 to 64 points, got \(values.count)")
        }
        guard zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ValidationError("\(option): the points must rise, each higher than the one before ('\(list)')")
        }
        return values
    }

    func run() async throws {
        let document: ScenarioDocument
        do {
            document = try ScenarioLoader.load(path: scenario)
        } catch {
            throw CLIError.invalid(error.description)
        }
        let loads = try loads()
        let store = try openStore(database)
        let interrupts = InterruptHandler()
        let pipeline = RunPipeline(
            wiring: .live(store), batchID: StoredRun.newBatchID(),
            gitCommit: GitCommit.of(directory: (scenario as NSString).deletingLastPathComponent),
            progress: progressMode(quiet: quiet), interrupts: interrupts)
        let session = SweepSession(pipeline: pipeline, labels: labels, requests: requests, json: json, style: .stdout)
        _ = try await session.run(document, loads: loads)
    }
}
