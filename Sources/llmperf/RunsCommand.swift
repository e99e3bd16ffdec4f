import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfRunner
import LLMPerfStore

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List, show, label and delete stored runs.",
        subcommands: [List.self, Show.self, Tag.self, Delete.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only runs of this scenario name.") var name: String?
        @Option(help: "Only runs with this label.") var label: String?
        @Option(help: "Only runs started within this long, e.g. 7d, 12h, 30m.") var since: String?
        @Option(help: "Only runs with this status.") var status: RunStatus?
        @Option(help: "At most this many runs.") var limit: Int?

        func run() async throws {
            let store = try openStore(database)
            var filter = RunFilter(name: name, label: label, status: status, limit: limit)
            if let since {
                guard let age = DurationParser.parseAge(since) else {
                    throw CLIError.invalid("--since: expected \(DurationParser.ageExpectation), got '\(since)'")
                }
                filter.since = Date().addingTimeInterval(-(age / .seconds(1)))
            }
            let runs = try store.listRuns(filter)
            if runs.isEmpty {
                print("no runs in \(store.path)")
                return
            }
            let rows = try runs.map { (run: $0, requests: try store.requestCount(runID: $0.id)) }
            print(RunListTable.render(rows, style: .stdout), terminator: "")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the summary of one run (and where the time went, when the server reported its phases).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The run: id, unique prefix, name@latest, name~N, label:X or name/variant.") var run: String
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() async throws {
            let store = try openStore(database)
            // The requests its statistics count (its steady-state window, when it was measured over one).
            let stored = try StoredRun.load(run, from: store)
            let breakdown = stored.breakdown
            let turns = SessionTurnSummary(stored.traces)
            let shards = ShardThroughput.of(stored.info, traces: stored.traces)
            if json {
                print(
                    try SummaryJSON.encode(
                        run: stored.info, summary: stored.summary, breakdown: breakdown, turns: turns, shards: shards))
            } else {
                print(
                    RunSummaryRenderer.render(
                        run: stored.info, summary: stored.summary, breakdown: breakdown, turns: turns, shards: shards,
                        style: .stdout),
                    terminator: "")
            }
        }
    }
}

extension RunsCommand {
    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add labels to a run (or remove them with --remove).", aliases: ["label"])
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The run.") var run: String
        @Argument(help: "Labels to add (or remove).") var labels: [String]
        @Flag(help: "Remove the labels instead of adding them.") var remove = false

        func validate() throws {
            guard !labels.isEmpty else { throw ValidationError("give at least one label") }
            try validateLabels(labels)
        }

        func run() async throws {
            let store = try openStore(database)
            let info = try resolveRun(run, in: store)
            if remove {
                try store.removeLabels(labels, from: info.id)
            } else {
                try store.addLabels(labels, to: info.id)
            }
            let now = try store.run(id: info.id)?.labels ?? []
            print("\(info.id) labels: \(now.isEmpty ? "(none)" : now.joined(separator: ", "))")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a run and its requests.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The run.") var run: String
        @Flag(help: "Confirm the deletion (required).") var yes = false

        func run() async throws {
            let store = try openStore(database)
            let info = try resolveRun(run, in: store)
            guard yes else {
                throw CLIError.invalid(
                    "deleting \(info.id) (\(info.displayName)) removes it and its requests for good; add --yes to confirm"
                )
            }
            let removed = try store.deleteRun(id: info.id)
            print("deleted \(info.id) (\(info.displayName)) and its \(removed) requests")
        }
    }
}
