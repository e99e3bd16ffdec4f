import Foundation
import LLMPerfCore
import LLMPerfRunner
import LLMPerfStore

/// `run --processes N`: the scenario's load as N shard processes of this executable (`run --shard i/N`,
/// one database file each in a temporary folder, one batch, one start time), then one merged run per
/// variant in the run database. Each shard's standard error comes through with a `[shard i]` prefix.
struct ShardProcesses {
    let command: RunCommand
    let count: Int

    /// How far ahead the shared start is set: time for N processes to start and load the scenario.
    static let startDelay: TimeInterval = 2

    func run(_ document: ScenarioDocument) async throws -> [RunInfo] {
        if let local = document.runs.first(where: { $0.target.backend != nil }) {
            throw CLIError.invalid(
                "--processes needs a target url: \(local.variant.map { "variant \($0)" } ?? "the scenario") starts a "
                    + "local backend, which every shard would start again (start it with `llmperf serve` and set "
                    + "target.url)")
        }
        for plan in document.runs {
            if let problem = plan.load.shardProblem(count: count) {
                throw CLIError.invalid("--processes \(count): \(problem)")
            }
        }
        let store = try openStore(command.database)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-shards-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let batch = command.batchID ?? StoredRun.newBatchID()
        let startAt = command.startAt.flatMap(WallClockTime.parse) ?? Date().addingTimeInterval(Self.startDelay)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var children: [Process] = []
        let outputs = ShardOutput()
        printError(
            "llmperf: \(count) shard processes, batch \(batch), starting at \(WallClockTime.text(startAt)); "
                + "their databases in \(folder.path)")
        for index in 0..<count {
            let process = Process()
            process.executableURL = executable
            var arguments = [
                "run", command.scenario, "--shard", "\(index)/\(count)", "--start-at", WallClockTime.text(startAt),
                "--batch-id", batch, "--db", folder.appendingPathComponent("shard-\(index).sqlite").path, "--quiet",
            ]
            for label in command.labels { arguments += ["--label", label] }
            if let requests = command.requests { arguments += ["--requests", String(requests)] }
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice  // each shard's own summary: the merged one says it all
            let errors = Pipe()
            process.standardError = errors
            outputs.relay(errors.fileHandleForReading, prefix: "[shard \(index)] ")
            try process.run()
            children.append(process)
        }
        // Ctrl-C reaches the shards too (one process group): each stores what it measured and ends interrupted.
        let interrupts = InterruptHandler()
        interrupts.onInterrupt {}
        for child in children { child.waitUntilExit() }
        outputs.finish()
        var failures: [String] = []
        for (index, child) in children.enumerated() where child.terminationStatus != 0 && child.terminationStatus != 130
        {
            failures.append("shard \(index) exited with \(child.terminationStatus)")
        }
        if !failures.isEmpty {
            throw CLIError.failure(failures.joined(separator: "; ") + "; its database stays in \(folder.path)")
        }
        let merger = ShardMerger(into: store)
        let merged: [RunInfo]
        do {
            merged = try merger.merge(try await merger.plan(sources: [folder.path], wait: nil), json: command.json)
        } catch {
            printError("llmperf: the shards' databases stay in \(folder.path)")
            throw error
        }
        try? FileManager.default.removeItem(at: folder)
        if interrupts.interrupted { throw CLIError(message: "interrupted", code: .interrupted) }
        return merged
    }
}

/// Copies each shard's standard error to this one's, a line at a time, each line prefixed.
private final class ShardOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var open = 0
    private let done = DispatchGroup()

    func relay(_ handle: FileHandle, prefix: String) {
        done.enter()
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending.append(data)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex...newline]
                    lock.withLock { FileHandle.standardError.write(Data(prefix.utf8) + line) }
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if !pending.isEmpty {
                lock.withLock { FileHandle.standardError.write(Data(prefix.utf8) + pending + Data("\n".utf8)) }
            }
            done.leave()
        }
    }

    func finish() { done.wait() }
}
