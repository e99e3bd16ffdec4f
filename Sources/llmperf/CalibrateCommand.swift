import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfRunner

struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure llmperf's own overhead against the synthetic server.",
        discussion: """
            Starts `llmperf serve --engine synthetic` as a child process and reports (1) the bias of \
            the client's TTFT and ITL against the server's own trace of the same requests, median \
            and p99, at concurrency 8 and 64 (after one warmup request per connection: connection \
            setup is measured as dns/tcp/tls, not counted as bias), and for cold bursts of 64 and 256 \
            requests started at once on fresh connections, without warmup (their TTFT includes the \
            connects; the bias after the connects is shown apart); (2) the highest streamed tokens/s and requests/s the client \
            sustains at concurrency 1, 64 and 256 with the server at ttft=0 itl=0, with the client's \
            CPU use and peak RSS; (3) the peak RSS holding 1,000 concurrent streams. `--api` picks the \
            API the client speaks (the server answers each), so each dialect's parsing is measured too. \
            Run as root (or with CAP_NET_RAW), it also captures the segments on the loopback interface and \
            reports the bias against the wire: the client's own part, without the server's queues. \
            --client-cpus and --server-cpus keep the two on separate cores.
            """)

    @Option(help: "Output tokens per request in the throughput steps.") var tokens: Int = 512
    @Option(help: "Scale the request counts (1 = default; smaller is quicker and noisier).") var scale: Double = 1
    @Option(
        name: .customLong("bias-concurrency"), parsing: .singleValue,
        help: "Concurrency of a bias measurement (repeat for several).")
    var biasConcurrency: [Int] = [8, 64]
    @Option(
        name: .customLong("cold-burst"), parsing: .singleValue,
        help: "Requests of a cold burst: all started at once on fresh connections (repeat for several; 0: none).")
    var coldBurst: [Int] = [64, 256]
    @Option(
        help: ArgumentHelp(
            "The API the client speaks to the synthetic server: \(APIKind.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "name"))
    var api: String = APIKind.openAIChat.rawValue
    @Option(
        name: .customLong("client-cpus"),
        help: ArgumentHelp(
            "Run the client only on these CPUs (e.g. 0 or 0-3); with --server-cpus, client and server do not share "
                + "cores.", valueName: "list"))
    var clientCPUs: String?
    @Option(
        name: .customLong("server-cpus"),
        help: ArgumentHelp("Run the synthetic servers only on these CPUs (e.g. 1 or 4-7).", valueName: "list"))
    var serverCPUs: String?
    @Flag(help: "Print the results as JSON.") var json = false

    func validate() throws {
        guard tokens > 1 else { throw ValidationError("--tokens must be > 1") }
        guard scale > 0, scale <= 10 else { throw ValidationError("--scale must be in (0, 10]") }
        guard !biasConcurrency.isEmpty, biasConcurrency.allSatisfy({ (1...1_000).contains($0) }) else {
            throw ValidationError("--bias-concurrency must be 1…1000")
        }
        guard coldBurst.allSatisfy({ (0...1_000).contains($0) }) else {
            throw ValidationError("--cold-burst must be 0…1000")
        }
        for (option, value) in [("--client-cpus", clientCPUs), ("--server-cpus", serverCPUs)] {
            guard let value else { continue }
            do {
                _ = try CPUSet(parsing: value)
            } catch {
                throw ValidationError("\(option): \(error)")
            }
        }
        let streaming = APIKind.allCases.filter(\.generates)
        guard let kind = APIKind(rawValue: api) else {
            throw ValidationError(
                "--api: unknown API '\(api)'; expected one of \(streaming.map(\.rawValue).joined(separator: ", "))")
        }
        guard kind.generates else {
            throw ValidationError(
                "--api: calibrate measures the client's token timing on streams; the \(api) API streams no tokens "
                    + "(time it with llmperf run); expected one of \(streaming.map(\.rawValue).joined(separator: ", "))"
            )
        }
    }

    func run() async throws {
        var calibration = Calibration(
            tokens: tokens, scale: scale, biasConcurrency: biasConcurrency, coldBurst: coldBurst,
            makeTransport: curlTransport, launcher: LocalBackendLauncher.live, api: APIKind(rawValue: api)!)
        calibration.serverCPUs = try serverCPUs.map { try CPUSet(parsing: $0) }
        if let clientCPUs {
            // A child inherits its parent's CPUs: unless told otherwise, the servers keep every CPU this process had.
            if calibration.serverCPUs == nil, let all = CPUSet.allowed() {
                calibration.serverCPUs = try? CPUSet(parsing: all)
            }
            do {
                try CPUSet(parsing: clientCPUs).pinProcess()
            } catch {
                throw CLIError.failure("calibrate: --client-cpus: \(error)")
            }
        }
        let result = try await calibration.run()
        print(json ? try result.json() : result.text(tokens: tokens, style: .stdout))
    }
}
