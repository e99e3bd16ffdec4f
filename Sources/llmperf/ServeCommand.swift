import ArgumentParser
import Foundation
import InferenceEngine
import InferenceServer
import LLMPerfCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the bundled OpenAI-compatible streaming backend.",
        discussion: """
            Serves /v1/chat/completions, /v1/completions, /v1/models, /health, /ready and /metrics. \
            The synthetic engine streams deterministic tokens at a configured TTFT and ITL (for tests, \
            calibration and CI smoke runs); the transformer engine runs a real GGUF model (`--model \
            default` is SmolLM2-135M-Instruct, fetched by scripts/fetch-model). /health answers 503 \
            while the model loads. Prints 'listening on URL' once bound; Ctrl-C stops it. With \
            --fault or --fault-mix the synthetic engine injects failures into completion responses \
            (HTTP errors, resets, stalls, malformed events, …; a request can pick one with the \
            x-llmperf-fault header), to test clients and gateways.
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
    @Option(help: "Transformer: convert the weights at load: native, f32, f16, q8_0 or q4_0.") var weights: String =
        "native"
    @Option(help: "Transformer: continuous (per-iteration batching) or off (one request at a time, FIFO).")
    var batching: String = "continuous"
    @Option(name: .customLong("max-batch"), help: "Transformer: most sequences decoded together.") var maxBatch: Int = 8
    @Option(
        name: .customLong("prefill-chunk"),
        help: "Transformer: prompt tokens run per iteration while others decode (chunked prefill).")
    var prefillChunk: Int = 128
    @Option(
        name: .customLong("prefix-cache"), help: "Transformer: reuse cached prompt prefixes (KV blocks): on or off.")
    var prefixCache: String = "on"
    @Option(name: .customLong("prefix-cache-mb"), help: "Transformer: prefix cache memory budget, MB.")
    var prefixCacheMB: Int = 256
    @Option(
        name: .customLong("response-cache"),
        help: "Answer repeated deterministic requests (temperature 0 or a seed) from memory: on or off.")
    var responseCache: String = "off"
    @Option(name: .customLong("response-cache-entries"), help: "Response cache: most answers kept.")
    var responseCacheEntries: Int = 1024
    @Option(name: .customLong("response-cache-mb"), help: "Response cache: memory bound, MB.")
    var responseCacheMB: Int = 64
    @Option(name: .customLong("response-cache-ttl"), help: "Response cache: how long an answer stays valid, e.g. 10m.")
    var responseCacheTTL: String = "10m"
    @Option(
        help: ArgumentHelp(
            "Transformer: speculative decoding: off, ngram (prompt lookup), draft:PATH (a GGUF with the same "
                + "vocabulary, or draft:default) or self:q4_0|self:q8_0 (the model's own weights quantized as the draft)."
        ))
    var speculative: String = "off"
    @Option(name: .customLong("draft-tokens"), help: "Speculative decoding: tokens drafted per step.")
    var draftTokens: Int = 4
    @Option(
        name: .customLong("draft-min-confidence"),
        help: ArgumentHelp(
            "Speculative decoding with a draft model: stop drafting before a token the draft gives less than this "
                + "probability (0 = always --draft-tokens)."))
    var draftMinConfidence: Double = 0
    @Option(
        name: .customLong("max-body"), help: "Largest request body accepted (413 above), e.g. 8MiB, 512KiB or bytes.")
    var maxBody: String = "8MiB"
    @Option(
        name: .customLong("header-timeout"),
        help: ArgumentHelp(
            "Close a connection whose request head has not fully arrived after this long (counted from the "
                + "connection's start or the previous response; also bounds idle keep-alive connections)."))
    var headerTimeout: String = "60s"
    @Option(
        name: .customLong("max-queue"),
        help:
            "Transformer: most requests waiting for a batch slot; beyond them 429 with Retry-After (default: no limit)."
    )
    var maxQueue: Int?
    @Option(
        help: ArgumentHelp(
            "Synthetic: inject this fault into every completion response (see README, 'The bundled backend'): "
                + ServerFault.validNames))
    var fault: String?
    @Option(
        name: .customLong("fault-mix"),
        help: "Synthetic: a seeded weighted draw per completion request, e.g. none=8,http_429=1,reset_mid_stream=1.")
    var faultMix: String?
    @Option(name: .customLong("fault-seed"), help: "Seed of the --fault-mix draw.") var faultSeed: UInt64 = 0
    @Option(name: .customLong("fault-after"), help: "Content events before a mid-stream fault.") var faultAfter: Int = 3
    @Option(name: .customLong("fault-stall"), help: "How long the stall faults wait.") var faultStall: String = "30s"
    @Option(name: .customLong("fault-drip"), help: "Pause between two bytes under the drip fault.")
    var faultDrip: String = "1ms"
    @Option(name: .customLong("fault-tokens-per-event"), help: "Tokens per content event under multi_token_events.")
    var faultTokensPerEvent: Int = 4

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
        guard WeightFormat(rawValue: weights) != nil else {
            throw ValidationError(
                "--weights: expected one of \(WeightFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(weights)'"
            )
        }
        guard batching == "continuous" || batching == "off" else {
            throw ValidationError("--batching: expected continuous or off, got '\(batching)'")
        }
        guard (1...256).contains(maxBatch) else { throw ValidationError("--max-batch must be 1…256, got \(maxBatch)") }
        guard prefillChunk >= 1 else { throw ValidationError("--prefill-chunk must be ≥ 1, got \(prefillChunk)") }
        for (flag, value) in [("--prefix-cache", prefixCache), ("--response-cache", responseCache)]
        where value != "on" && value != "off" {
            throw ValidationError("\(flag): expected on or off, got '\(value)'")
        }
        guard prefixCacheMB >= 1 else { throw ValidationError("--prefix-cache-mb must be ≥ 1, got \(prefixCacheMB)") }
        guard responseCacheEntries >= 1, responseCacheMB >= 1 else {
            throw ValidationError("--response-cache-entries and --response-cache-mb must be ≥ 1")
        }
        guard responseCacheTTLDuration != nil else {
            throw ValidationError(
                "--response-cache-ttl: expected a duration such as 30s, 10m or 1h, got '\(responseCacheTTL)'")
        }
        do {
            _ = try SpeculationMode(argument: speculative)
        } catch {
            throw ValidationError("--speculative: \(error)")
        }
        guard (0...1).contains(draftMinConfidence) else {
            throw ValidationError("--draft-min-confidence must be 0…1, got \(draftMinConfidence)")
        }
        guard (1...16).contains(draftTokens) else {
            throw ValidationError("--draft-tokens must be 1…16, got \(draftTokens)")
        }
        guard parsedMaxBody != nil else {
            throw ValidationError("--max-body: expected a size such as 8MiB, 512KiB or 1048576 (> 0), got '\(maxBody)'")
        }
        guard let timeout = DurationParser.parse(headerTimeout), timeout > .zero else {
            throw ValidationError("--header-timeout: expected \(DurationParser.expectation), got '\(headerTimeout)'")
        }
        if let maxQueue, maxQueue < 0 { throw ValidationError("--max-queue must be ≥ 0, got \(maxQueue)") }
        if resolvedEngine == "synthetic" {
            if maxQueue != nil {
                throw ValidationError(
                    "--max-queue applies to the transformer engine (the synthetic engine serves every request at once)")
            }
        } else if fault != nil || faultMix != nil {
            throw ValidationError("--fault and --fault-mix apply to the synthetic engine")
        }
        _ = try faultConfiguration()
        if resolvedEngine == "synthetic" {
            let transformerOnly = [
                ("--weights", weights != "native"), ("--batching", batching != "continuous"),
                ("--prefix-cache", prefixCache != "on"), ("--speculative", speculative != "off"),
            ]
            if let (flag, _) = transformerOnly.first(where: { $0.1 }) {
                throw ValidationError("\(flag) applies to the transformer engine, not synthetic")
            }
        }
    }

    var responseCacheTTLDuration: Duration? {
        guard let duration = DurationParser.parse(responseCacheTTL), duration > .zero else { return nil }
        return duration
    }

    var responseCacheConfiguration: ResponseCache.Configuration? {
        guard responseCache == "on", let ttl = responseCacheTTLDuration else { return nil }
        return ResponseCache.Configuration(
            maxEntries: responseCacheEntries, maxBytes: responseCacheMB << 20, ttl: ttl)
    }

    var resolvedEngine: String { engine ?? (model == nil ? "synthetic" : "transformer") }

    /// `--max-body` in bytes: a whole number with an optional unit (B, KiB, MiB, GiB; KB/MB/GB are read the same).
    var parsedMaxBody: Int? {
        let text = maxBody.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1),
        ]
        var number = Substring(text)
        var multiplier = 1
        if let (suffix, value) = units.first(where: { text.hasSuffix($0.0) }) {
            number = text.dropLast(suffix.count)
            multiplier = value
        }
        guard let count = Int(number.trimmingCharacters(in: .whitespaces)), count > 0,
            count <= Int.max / multiplier
        else { return nil }
        return count * multiplier
    }

    /// The fault mode from the `--fault*` options (nil when neither --fault nor --fault-mix is given).
    func faultConfiguration() throws -> FaultConfiguration? {
        guard fault == nil || faultMix == nil else {
            throw ValidationError("--fault and --fault-mix exclude each other")
        }
        guard faultAfter >= 0 else { throw ValidationError("--fault-after must be ≥ 0, got \(faultAfter)") }
        guard faultTokensPerEvent >= 1 else {
            throw ValidationError("--fault-tokens-per-event must be ≥ 1, got \(faultTokensPerEvent)")
        }
        guard let stall = DurationParser.parse(faultStall), stall >= .zero else {
            throw ValidationError("--fault-stall: expected \(DurationParser.expectation), got '\(faultStall)'")
        }
        guard let drip = DurationParser.parse(faultDrip), drip >= .zero else {
            throw ValidationError("--fault-drip: expected \(DurationParser.expectation), got '\(faultDrip)'")
        }
        let selection: FaultConfiguration.Selection
        do {
            if let fault {
                selection = .every(try ServerFault(name: fault))
            } else if let faultMix {
                selection = .mix(try FaultConfiguration.parseMix(faultMix), seed: faultSeed)
            } else {
                return nil
            }
        } catch {
            throw ValidationError("\(fault != nil ? "--fault" : "--fault-mix"): \(error)")
        }
        return FaultConfiguration(
            selection: selection, after: faultAfter, stall: stall, drip: drip, tokensPerEvent: faultTokensPerEvent)
    }

    func run() async throws {
        ParentWatch.startIfAsked()
        let servedEngine: ServerConfiguration.Engine
        if resolvedEngine == "transformer" {
            let name = model ?? "default"
            let path: String
            do {
                path = try ModelLocator.resolve(name)
            } catch {
                throw CLIError.invalid("\(error)")
            }
            var speculation = (try? SpeculationMode(argument: speculative)) ?? .off
            if case .draft(let draft) = speculation {
                do {
                    speculation = .draft(path: try ModelLocator.resolve(draft))
                } catch {
                    throw CLIError.invalid("--speculative draft:\(draft): \(error)")
                }
            }
            let options = TransformerServingOptions(
                threads: threads, contextLength: ctx, weights: WeightFormat(rawValue: weights) ?? .native,
                continuousBatching: batching == "continuous", maxBatch: maxBatch, prefillChunk: prefillChunk,
                prefixCacheBytes: prefixCache == "on" ? prefixCacheMB << 20 : nil,
                speculation: speculation, draftTokens: draftTokens,
                draftMinimumConfidence: Float(draftMinConfidence), maxQueue: maxQueue)
            let cache = responseCacheConfiguration
            servedEngine = .custom {
                let engine = try TransformerServingEngine(path: path, servedName: name, options: options)
                guard let cache else { return engine }
                return ResponseCachingEngine(wrapping: engine, configuration: cache, defaultTemperatureIsGreedy: true)
            }
        } else {
            let synthetic = SyntheticEngine.Configuration(
                modelName: "synthetic", ttftMs: ttftMs, itlMs: itlMs, defaultTokens: tokens,
                contextLength: contextLength)
            if let cache = responseCacheConfiguration {
                servedEngine = .custom {
                    ResponseCachingEngine(
                        wrapping: SyntheticEngine(configuration: synthetic), configuration: cache,
                        defaultTemperatureIsGreedy: true)
                }
            } else {
                servedEngine = .synthetic(synthetic)
            }
        }
        let configuration = ServerConfiguration(
            host: host, port: port,
            engine: servedEngine,
            tlsCertificatePath: tlsCert, tlsKeyPath: tlsKey, tracePath: traceFile,
            maxBodyBytes: parsedMaxBody ?? 8 << 20,
            headerTimeout: DurationParser.parse(headerTimeout) ?? .seconds(60),
            faults: try faultConfiguration())
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
