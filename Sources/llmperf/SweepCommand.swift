import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfRunner

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Measure a scenario at several loads: the load curve, and the capacity under its slo.",
        discussion: """
            Each load is its own stored run (variant c<N> or r<R>, label sweep, all in one batch, stored as \
            a sweep that report, compare and gate read as sweep:NAME@latest), measured as `llmperf run` \
            measures it: warmup, then the scenario's requests (or --requests, --duration). A point meets \
            the scenario's slo only when each rule holds over the 95% interval of its value. The capacity \
            is the highest load, counting up from the lowest, before the first point that breaks the slo, \
            saturates (throughput grows less than 5% per doubling of load) or finds the client the \
            bottleneck (its CPU above 85% of a core, or its schedule lag p99 above 5 ms). \
            --find-capacity searches for it: it doubles the load from --min until a point is bad or \
            --max is reached, then bisects to --resolution. Each point's statistics count its steady state \
            only (from the end of the first wave, or one median latency into an open loop, to the last \
            request sent), unless --all-requests. Ctrl-C keeps the points measured and exits 130.
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The scenario file (YAML, version: 1), without variants.") var scenario: String
    @Option(help: "Closed-loop points: concurrencies, e.g. 1,2,4,8,16.") var concurrency: String?
    @Option(help: "Open-loop points: request rates per second, e.g. 1,2,5,10/s.") var rate: String?
    @Flag(help: "Search the highest load that meets the scenario's slo (doubling, then bisection).")
    var findCapacity = false
    @Option(help: "--find-capacity: search over concurrency or rate (default: the scenario's own loop).")
    var over: SweepOver?
    @Option(help: "--find-capacity: the lowest load, e.g. 1 or 0.5/s (default 1).") var min: String?
    @Option(help: "--find-capacity: the highest load, e.g. 256 or 200/s (default 256 or 256/s).") var max: String?
    @Option(
        help:
            "--find-capacity: stop bisecting within this much load: concurrency steps (default 1), a rate (2/s) or a share of the capacity (5%, the default for rates)."
    )
    var resolution: String?
    @Option(name: .customLong("label"), help: "Label the runs, besides sweep. Repeatable.") var labels: [String] = []
    @Option(help: "Override load.requests (measured requests per point).") var requests: Int?
    @Option(help: "Measure each point for this long instead (e.g. 30s, 2m).") var duration: String?
    @Flag(
        help:
            "Count every measured request of each point, not only its steady state (the ramp-up and drain left out by default)."
    )
    var allRequests = false
    @Flag(help: "Print the sweep as JSON on standard output (progress stays on standard error).") var json = false
    @Flag(help: "No live progress line: a plain line every few seconds.") var quiet = false
    @OptionGroup var metricsListen: MetricsListenOptions

    func validate() throws {
        if let requests, requests <= 0 { throw ValidationError("--requests must be > 0, got \(requests)") }
        if requests != nil && duration != nil { throw ValidationError("give --requests or --duration, not both") }
        if let duration, DurationParser.parse(duration).map({ $0 > .zero }) != true {
            throw ValidationError("--duration: expected a positive duration such as 30s or 2m, got '\(duration)'")
        }
        try validateLabels(labels)
        if findCapacity {
            if concurrency != nil || rate != nil {
                throw ValidationError("--find-capacity chooses the points itself: drop --concurrency and --rate")
            }
            // Without --over the loop is the scenario's, known once it is read (run checks it then).
            if over != nil { _ = try search(defaultOver: .concurrency) }
        } else {
            if over != nil || min != nil || max != nil || resolution != nil {
                throw ValidationError("--over, --min, --max and --resolution belong to --find-capacity")
            }
            _ = try loads()
        }
    }

    /// The points, from --concurrency or --rate (exactly one of them).
    func loads() throws -> SweepLoads {
        switch (concurrency, rate) {
        case (let list?, nil):
            return .concurrency(try Self.parse(list, option: "--concurrency") { Int($0).flatMap { $0 > 0 ? $0 : nil } })
        case (nil, let list?):
            let rates = try Self.parse(list.hasSuffix("/s") ? String(list.dropLast(2)) : list, option: "--rate") {
                Self.rate($0)
            }
            return .rate(rates)
        case (nil, nil):
            throw ValidationError("give the points (--concurrency 1,2,4,… or --rate 1,2,5/s) or --find-capacity")
        case (.some, .some): throw ValidationError("--concurrency and --rate are two kinds of sweep: give one")
        }
    }

    static func rate(_ text: String) -> Double? {
        Double(text.hasSuffix("/s") ? String(text.dropLast(2)) : text).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
    }

    /// The capacity search over `defaultOver` unless --over says otherwise.
    func search(defaultOver: SweepOver) throws -> CapacitySearch {
        let over = self.over ?? defaultOver
        func load(_ text: String?, option: String, fallback: Double) throws -> Double {
            guard let text else { return fallback }
            let value: Double?
            switch over {
            case .concurrency: value = Int(text).flatMap { $0 > 0 ? Double($0) : nil }
            case .rate: value = Self.rate(text)
            }
            guard let value else {
                throw ValidationError(
                    over == .concurrency
                        ? "\(option): expected a whole concurrency > 0, got '\(text)'"
                        : "\(option): expected a rate such as 2/s or 0.5, got '\(text)'")
            }
            return value
        }
        let minimum = try load(min, option: "--min", fallback: 1)
        let maximum = try load(max, option: "--max", fallback: 256)
        guard maximum >= minimum else {
            throw ValidationError("--max (\(SweepOver.format(maximum))) is below --min (\(SweepOver.format(minimum)))")
        }
        guard maximum / minimum <= 1_048_576 else {
            throw ValidationError("--max is more than 2^20 times --min: narrow the search")
        }
        var step = CapacitySearch.defaultResolution(over)
        if let resolution {
            if resolution.hasSuffix("%"), let percent = Double(resolution.dropLast()), percent > 0, percent < 100 {
                step = .relative(percent / 100)
            } else if over == .concurrency, let steps = Int(resolution), steps > 0 {
                step = .absolute(Double(steps))
            } else if over == .rate, let value = Self.rate(resolution) {
                step = .absolute(value)
            } else {
                throw ValidationError(
                    "--resolution: expected "
                        + (over == .concurrency ? "a number of concurrency steps (1)" : "a rate (2/s)")
                        + " or a percentage (5%), got '\(resolution)'")
            }
        }
        return CapacitySearch(over: over, minimum: minimum, maximum: maximum, resolution: step)
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
        let mode: SweepMode
        if findCapacity {
            var scenarioOver = SweepOver.concurrency
            if case .open = document.runs.first?.load.shape { scenarioOver = .rate }
            do {
                mode = .findCapacity(try search(defaultOver: scenarioOver))
            } catch let error as ValidationError {
                throw CLIError.invalid(error.message)
            }
        } else {
            mode = .points(try loads())
        }
        let length: SweepPointLength
        if let requests {
            length = .requests(requests)
        } else if let duration, let parsed = DurationParser.parse(duration) {
            length = .duration(parsed)
        } else {
            length = .scenario
        }
        let metrics = try await metricsListen.start()
        let store = try openStore(database)
        let interrupts = InterruptHandler()
        let pipeline = RunPipeline(
            wiring: .live(store, metrics: metrics), batchID: StoredRun.newBatchID(),
            gitCommit: GitCommit.of(directory: (scenario as NSString).deletingLastPathComponent),
            progress: progressMode(quiet: quiet), interrupts: interrupts, steadyState: !allRequests)
        let session = SweepSession(pipeline: pipeline, labels: labels, length: length, json: json, style: .stdout)
        try await session.run(document, mode: mode)
        await metricsListen.finish(metrics)
    }
}

extension SweepOver: ExpressibleByArgument {}
