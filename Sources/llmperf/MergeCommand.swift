import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfRunner
import LLMPerfStore

struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the runs of a sharded load (run --shard I/N) into one run.",
        discussion: """
            Every request of every shard is kept, with its shard, and put on one time axis through the clock \
            offsets each shard recorded; the merged run's percentiles and throughput are computed from all of \
            them (never averaged over shards), so compare, gate and report treat it like any run. The shards must \
            be of one scenario and one batch, each shard 0..N-1 exactly once (one merged run per variant). \
            Sources: shard database files, directories of them (*.sqlite), or run references in the --into \
            database.
            """)

    @Argument(help: "Shard database files, directories of *.sqlite files, or run references in --into.")
    var sources: [String]
    @Option(help: "The database the merged run is stored in (default: $LLMPERF_DB or ./.llmperf/llmperf.sqlite).")
    var into: String?
    @Option(help: "Wait this long (e.g. 2h) for shards that are missing or still running, polling every 2 s.")
    var wait: String?
    @Flag(help: "Print the merged runs' summaries as JSON.") var json = false

    func validate() throws {
        if sources.isEmpty { throw ValidationError("name the shards' database files, a directory of them, or run ids") }
        if let wait, DurationParser.parse(wait).map({ $0 > .zero }) != true {
            throw ValidationError("--wait expects a duration such as 30s or 2h, got '\(wait)'")
        }
    }

    func run() async throws {
        let store = try openStore(path: into ?? RunStore.defaultPath())
        let merger = ShardMerger(into: store)
        let plan = try await merger.plan(sources: sources, wait: wait.flatMap(DurationParser.parse))
        _ = try merger.merge(plan, json: json)
    }
}
