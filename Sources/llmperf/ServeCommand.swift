import ArgumentParser
import Foundation
import InferenceEngine
import InferenceServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the bundled OpenAI-compatible streaming backend.",
        discussion: """
            Serves /v1/chat/completions, /v1/completions, /v1/models, /health, /ready and /metrics. \
            The synthetic engine streams deterministic tokens at a configured TTFT and ITL (for tests, \
            calibration and CI smoke runs); the transformer engine runs a real GGUF model (`--model \
            default` is SmolLM2-135M-Instruct, fetched by scripts/fetch-model). /health answers 503 \
            while the model loads. Prints 'listening on URL' once bound; Ctrl-C stops it.
            """)

    @Option(help: "transformer or synthetic (default: transformer when --model is given, else synthetic).")
    var engine: String?
    @Option(help: "Transformer: 'default' or the path of a GGUF file.") var model: String?
    @Option(help: "Transformer: compute threads.") var threads: Int = 2
    @Option(help: "Transformer: context length in tokens (default: the model's).") var ctx: Int?
    @Option(help: "Address to bind.") var host: String = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one.") var port: Int = 8080
    @Option(name: .customLong("ttft-ms"), help: "Synthetic: time to first token, ms.") var ttftMs: Double = 0
    @Option(name: .customLong("itl-ms"), help: "Synthetic: time between tokens, ms.") var itlMs: Double = 0
    @Option(help: "Synthetic: tokens per answer when a request sets no max_tokens.") var tokens: Int = 128
    @Option(name: .customLong("context-length"), help: "Synthetic: context length in tokens.")
    var contextLength: Int = 1 << 20
    @Option(name: .customLong("tls-cert"), help: "PEM certificate: serve HTTPS.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("trace-file"), help: "Write the server-side send time of every chunk here.")
    var traceFile: String?

    func validate() throws {
        if let engine, engine != "synthetic", engine != "transformer" {
            throw ValidationError("--engine: expected transformer or synthetic, got '\(engine)'")
        }
        if resolvedEngine == "synthetic", model != nil {
            throw ValidationError("--model applies to the transformer engine, not synthetic")
        }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64, got \(threads)") }
        if let ctx, ctx < 16 { throw ValidationError("--ctx must be at least 16, got \(ctx)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard ttftMs >= 0, itlMs >= 0 else { throw ValidationError("--ttft-ms and --itl-ms must be ≥ 0") }
        guard tokens > 0 else { throw ValidationError("--tokens must be > 0, got \(tokens)") }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
    }

    var resolvedEngine: String { engine ?? (model == nil ? "synthetic" : "transformer") }

    func run() async throws {
        let servedEngine: ServerConfiguration.Engine
        if resolvedEngine == "transformer" {
            let name = model ?? "default"
            let path: String
            do {
                path = try ModelLocator.resolve(name)
            } catch {
                throw CLIError.invalid("\(error)")
            }
            let threads = threads
            let ctx = ctx
            servedEngine = .custom {
                try TransformerServingEngine(path: path, servedName: name, threads: threads, contextLength: ctx)
            }
        } else {
            servedEngine = ServerConfiguration.synthetic(
                ttftMs: ttftMs, itlMs: itlMs, tokens: tokens, contextLength: contextLength)
        }
        let configuration = ServerConfiguration(
            host: host, port: port,
            engine: servedEngine,
            tlsCertificatePath: tlsCert, tlsKeyPath: tlsKey, tracePath: traceFile)
        do {
            try await LLMServer.run(configuration: configuration) { bound in
                // Unbuffered: a parent process waits for this line.
                FileHandle.standardOutput.write(Data("listening on \(bound.url)\n".utf8))
            }
        } catch {
            throw CLIError.failure("serve: \(error)")
        }
    }
}
