import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfExporter
import LLMPerfRunner

/// `--metrics-listen` and `--metrics-linger`, shared by `run` and `sweep`.
struct MetricsListenOptions: ParsableArguments {
    @Option(
        name: .customLong("metrics-listen"),
        help: ArgumentHelp(
            "Serve the client's live metrics (Prometheus text) at http://HOST:PORT/metrics while the command runs.",
            valueName: "host:port"))
    var listen: String?
    @Option(
        name: .customLong("metrics-linger"),
        help: "With --metrics-listen: keep serving this long after the last run ends (e.g. 15s), for a last scrape.")
    var linger: String?

    func validate() throws {
        do {
            _ = try listen.map(MetricsListenAddress.init(parsing:))
        } catch {
            throw ValidationError(error.description)
        }
        if let linger {
            guard listen != nil else { throw ValidationError("--metrics-linger needs --metrics-listen") }
            guard DurationParser.parse(linger).map({ $0 >= .zero }) == true else {
                throw ValidationError("--metrics-linger: expected a duration such as 15s, got '\(linger)'")
            }
        }
    }

    /// Listens before anything is sent (nil without --metrics-listen); a taken port is an error here.
    func start() async throws -> MetricsExporter? {
        guard let listen else { return nil }
        do {
            let exporter = try await MetricsExporter.start(try MetricsListenAddress(parsing: listen))
            FileHandle.standardError.write(Data("llmperf: live metrics at \(exporter.endpoint.url)\n".utf8))
            return exporter
        } catch {
            throw CLIError.failure(error.description)
        }
    }

    /// After the last run: serve for --metrics-linger, then stop.
    func finish(_ exporter: MetricsExporter?) async {
        guard let exporter else { return }
        if let linger, let duration = DurationParser.parse(linger), duration > .zero {
            try? await Task.sleep(for: duration)
        }
        await exporter.stop()
    }
}
