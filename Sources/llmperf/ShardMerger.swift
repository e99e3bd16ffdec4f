import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfRunner
import LLMPerfStore

/// `llmperf merge` and the end of `run --processes`: finds the shards' runs in files, directories or the
/// database merged into, checks them (`ShardMergePlan`), waits for missing or running ones when asked,
/// stores one run per variant (`RunStore.merge`) and prints each merged run's summary.
struct ShardMerger {
    let into: RunStore

    /// Every shard run the sources name: a directory is its `*.sqlite` files (the database merged into
    /// left out), a file is every shard run in it, anything else a run reference in the database merged into.
    func candidates(from sources: [String]) throws -> [ShardCandidate] {
        var candidates: [ShardCandidate] = []
        let own = URL(fileURLWithPath: into.path).standardizedFileURL.resolvingSymlinksInPath().path
        for source in sources {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) {
                let files: [String]
                if isDirectory.boolValue {
                    let names = try FileManager.default.contentsOfDirectory(atPath: source)
                    files = names.filter { $0.hasSuffix(".sqlite") }.sorted().map {
                        (source as NSString).appendingPathComponent($0)
                    }
                    .filter { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path != own }
                } else {
                    files = [source]
                }
                for file in files {
                    let isOwn = URL(fileURLWithPath: file).standardizedFileURL.resolvingSymlinksInPath().path == own
                    let store = isOwn ? into : try RunStore(path: file)
                    candidates += try store.shardRuns().map { ShardCandidate(info: $0, source: store.path) }
                }
            } else {
                let info: RunInfo
                do {
                    info = try into.resolveRun(source)
                } catch {
                    throw CLIError.invalid(
                        "'\(source)' is neither a file nor a directory, nor a run in \(into.path): \(error)")
                }
                candidates.append(ShardCandidate(info: info, source: into.path))
            }
        }
        return candidates
    }

    /// Plans the merge, waiting up to `wait` (polling every 2 s) while shards are missing or still running.
    func plan(sources: [String], wait: Duration?) async throws -> ShardMergePlan {
        let deadline = wait.map { ContinuousClock.now + $0 }
        var said = ""
        while true {
            let candidates = try candidates(from: sources)
            switch ShardMergePlan.plan(candidates) {
            case .success(let plan):
                return plan
            case .failure(let error):
                let canWait = error.kind == .incomplete || candidates.isEmpty
                guard canWait, let deadline, ContinuousClock.now < deadline else {
                    let waited =
                        wait.map { " (after waiting \($0.formatted(.units(allowed: [.hours, .minutes, .seconds]))))" }
                        ?? ""
                    let message = "cannot merge\(waited): " + error.problems.joined(separator: "; ")
                    throw error.kind == .refused && !candidates.isEmpty
                        ? CLIError.invalid(message) : CLIError.failure(message)
                }
                let text = error.description
                if text != said {
                    printError("llmperf: waiting: \(text)")
                    said = text
                }
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// Stores the merged runs and prints each one's summary (`json`: all of them as one JSON array on
    /// standard output).
    func merge(_ plan: ShardMergePlan, json: Bool) throws -> [RunInfo] {
        let merged: [RunInfo]
        let started = ContinuousClock.now
        do {
            merged = try into.merge(plan)
        } catch let error as StoreError {
            if case .conflict(let message) = error { throw CLIError.invalid("cannot merge: " + message) }
            throw CLIError.failure("the merge could not be stored in \(into.path): \(error)")
        } catch {
            throw CLIError.failure("the merge could not be stored in \(into.path) (nothing was): \(error)")
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        for info in merged {
            let requests = (try? into.requestCount(runID: info.id)) ?? 0
            printError(
                "llmperf: merged \(requests) requests of \(info.mergedFrom?.count ?? 0) shards into run \(info.id) in "
                    + "\(into.path)" + (merged.count == 1 ? String(format: " (%.2f s)", seconds) : ""))
        }
        var documents: [String] = []
        for info in merged {
            // Exact and in memory that does not grow with the run: passes over the stored rows, as a run's own summary.
            // The shards' counts ride on the summary's first pass (a pass over 800,000 rows costs seconds).
            var tally = ShardThroughput.Tally()
            var firstPass = true
            let summary = try RunSummary { visit in
                try into.forEachTrace(runID: info.id, outputTextLimit: 0) { trace in
                    if firstPass { tally.add(trace) }
                    visit(trace)
                }
                firstPass = false
            }
            let shards = tally.rows(for: info)
            if json {
                documents.append(try SummaryJSON.encode(run: info, summary: summary, shards: shards))
            } else {
                print(RunSummaryRenderer.render(run: info, summary: summary, shards: shards, style: .stdout))
            }
        }
        if json { print("[" + documents.joined(separator: ",\n") + "]") }
        return merged
    }
}
