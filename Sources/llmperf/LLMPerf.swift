import ArgumentParser
import Foundation
import LLMPerfRunner

/// The `llmperf` command. Exit codes: 0 ok, 1 runtime failure, 2 invalid input (scenario,
/// flags, run reference), 3 gate failed, 130 interrupted by Ctrl-C.
struct LLMPerf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmperf",
        abstract: "Latency profiler and benchmark suite for LLM endpoints.",
        discussion: """
            Measures streaming LLM endpoints phase by phase (DNS, TCP, TLS, TTFT, TPOT, ITL), stores \
            every run in SQLite, and compares runs with statistics. Exit codes: 0 ok, 1 runtime failure, \
            2 invalid input, 3 gate failed, 130 interrupted.
            """,
        version: "0.1.0",
        subcommands: commandList
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try LLMPerf.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data(("llmperf: " + error.message + "\n").utf8))
            exit(error.code.rawValue)
        } catch {
            let code = LLMPerf.exitCode(for: error)
            let message = LLMPerf.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            // Usage mistakes are invalid input: exit 2, as every other invalid input.
            exit(code == .validationFailure ? ExitStatus.invalidInput.rawValue : code.rawValue)
        }
    }
}
