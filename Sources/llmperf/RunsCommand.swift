import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfReport
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
        @Option(help: "Only runs with this status (running, completed, interrupted, failed).") var status: String?
        @Option(help: "At most this many runs.") var limit: Int?

        func run() async throws {
            let store = try openStore(database)
            var filter = RunFilter(name: name, label: label, limit: limit)
            if let since { filter.since = Date().addingTimeInterval(-(try parseAge(since))) }
            if let status {
                guard let parsed = RunStatus(rawValue: status) else {
                    throw CLIError.invalid(
                        "--status: expected one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(status)'"
                    )
                }
                filter.status = parsed
            }
            let runs = try store.listRuns(filter)
            if runs.isEmpty {
                print("no runs in \(store.path)")
                return
            }
            let style = TerminalStyle.detect(environment: ProcessInfo.processInfo.environment, isTTY: isatty(1) == 1)
            var table = TextTable(
                headers: ["id", "name", "variant", "status", "started", "requests", "labels"],
                alignments: [.left, .left, .left, .left, .left, .right, .left])
            let formatter = ISO8601DateFormatter()
            for run in runs {
                table.add([
                    TextTable.Cell(run.id), TextTable.Cell(run.name), TextTable.Cell(run.variant ?? ""),
                    TextTable.Cell(run.status.rawValue, style: run.status == .completed ? nil : .yellow),
                    TextTable.Cell(formatter.string(from: run.startedAt)),
                    TextTable.Cell(String(try store.requestCount(runID: run.id))),
                    TextTable.Cell(run.labels.joined(separator: ",")),
                ])
            }
            print(table.render(style: style), terminator: "")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the summary of one run.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The run: id, unique prefix, name@latest, name~N, label:X or name/variant.") var run: String
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() async throws {
            let store = try openStore(database)
            let info = try resolveRun(run, in: store)
            let summary = RunSummary(traces: try store.traces(runID: info.id))
            if json {
                print(try SummaryJSON.encode(run: info, summary: summary))
            } else {
                let style = TerminalStyle.detect(
                    environment: ProcessInfo.processInfo.environment, isTTY: isatty(1) == 1)
                print(RunSummaryRenderer.render(run: info, summary: summary, style: style), terminator: "")
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

func openStore(_ options: DatabaseOptions) throws -> RunStore {
    do {
        return try RunStore(path: options.db ?? RunStore.defaultPath())
    } catch {
        throw CLIError.failure(error.description)
    }
}

/// Parses an age such as `7d`, `12h`, `30m`, `90s` into seconds.
func parseAge(_ text: String) throws -> TimeInterval {
    let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
    guard let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()), value >= 0 else {
        throw CLIError.invalid("--since: expected an age such as 7d, 12h or 30m, got '\(text)'")
    }
    return value * factor
}

/// Resolves a run reference; an unknown or ambiguous one is invalid input (exit 2).
func resolveRun(_ reference: String, in store: RunStore) throws -> RunInfo {
    do {
        return try store.resolve(reference)
    } catch let error as StoreError {
        switch error {
        case .invalidReference(let message), .unknownRun(let message): throw CLIError.invalid(message)
        default: throw CLIError.failure(error.description)
        }
    }
}

/// Labels are single words: no spaces or commas (they are listed comma-separated).
func validateLabels(_ labels: [String]) throws {
    for label in labels where label.isEmpty || label.contains(where: { $0.isWhitespace || $0 == "," }) {
        throw ValidationError("a label may not be empty or hold spaces or commas: '\(label)'")
    }
}
