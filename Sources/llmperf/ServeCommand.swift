import ArgumentParser
import Foundation
import InferenceEngine
import InferenceServer
import LLMPerfCore
import LLMPerfRunner

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the bundled OpenAI-compatible streaming backend.",
        discussion: """
            Serves /v1/chat/completions, /v1/completions, Anthropic's /v1/messages, Ollama's /api/chat and \
            /api/generate, /v1/models, /health, /ready and /metrics. \
            The synthetic engine streams deterministic tokens at a configured TTFT and ITL (for tests, \
            calibration and CI smoke runs); the transformer engine runs a real GGUF model (`--model \
            default` is SmolLM2-135M-Instruct, fetched by scripts/fetch-model). /health answers 503 \
            while the model loads. Prints 'listening on URL' once bound; Ctrl-C stops it. With \
            --fault or --fault-mix the synthetic engine injects failures into completion responses \
            (HTTP errors, resets, stalls, malformed events, …; a request can pick one with the \
            x-llmperf-fault header), to test clients and gateways.
            """)

    @Option(help: "The engine (default: transformer when --model is given, else synthetic).")
    var engine: ServeEngine?
    @Option(help: "Transformer: 'default' or the path of a GGUF file.") var model: String?
    @Option(help: "Transformer: compute threads.") var threads: Int = 2
    @Option(help: "Transformer: context length in tokens (default: the model's).") var ctx: Int?
    @Option(
        help: ArgumentHelp(
            "Run only on these CPUs (e.g. 1, 2-3 or 0,2): keeps the server off a load generator's cores.",
            valueName: "list"))
    var cpus: String?
    @Option(help: "Address to bind.") var host: String = "127.0.0.1"
    @Option(help: "Port to bind; 0 picks a free one.") var port: Int = 8080
    @Option(name: .customLong("ttft-ms"), help: "Synthetic: time to first token, ms.") var ttftMs: Double = 0
    @Option(name: .customLong("itl-ms"), help: "Synthetic: time between tokens, ms.") var itlMs: Double = 0
    @Option(help: "Synthetic: tokens per answer when a request sets no max_tokens.") var tokens: Int = 128
    @Option(name: .customLong("context-length"), help: "Synthetic: context length in tokens.")
    var contextLength: Int = 1 << 20
    @Option(
        name: .customLong("reasoning-tokens"),
        help: ArgumentHelp(
            "Synthetic: the first N tokens of every chat answer are reasoning (delta/message reasoning_content; "
                + "max_tokens counts them; usage.completion_tokens_details.reasoning_tokens)."))
    var reasoningTokens: Int = 0
    @Flag(
        name: .customLong("tool-calls"),
        help: "Synthetic: every chat answer is one get_weather tool call (OpenAI tool_calls format) instead of text.")
    var toolCalls = false
    @Option(
        name: .customLong("max-running"),
        help: ArgumentHelp(
            "Synthetic: at most N requests generate at once; the rest wait first come first served, and their "
                + "time to first token counts from when a slot frees (default: no limit)."))
    var maxRunning: Int?
    @Option(
        name: .customLong("itl-per-running-ms"),
        help: ArgumentHelp(
            "Synthetic: each token's interval grows by this many ms per request generating at that moment "
                + "(itself included): with c generating, tokens come itl-ms + K·c apart."))
    var itlPerRunningMs: Double = 0
    @Option(name: .customLong("tls-cert"), help: "PEM certificate: serve HTTPS.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("trace-file"), help: "Write the server-side send time of every chunk here.")
    var traceFile: String?
    @Option(help: "Transformer: convert the weights at load.") var weights: WeightFormat = .native
    @Option(help: ComputeDevice.help("Transformer: where the forward passes run")) var device: ComputeDevice = .cpu
    @Option(help: "Transformer: continuous (per-iteration batching) or off (one request at a time, FIFO).")
    var batching: BatchingMode = .continuous
    @Option(name: .customLong("max-batch"), help: "Transformer: most sequences decoded together.") var maxBatch: Int = 8
    @Option(
        name: .customLong("prefill-chunk"),
        help: "Transformer: prompt tokens run per iteration while others decode (chunked prefill).")
    var prefillChunk: Int = 128
    @Option(
        name: .customLong("prefix-cache"), help: "Transformer: reuse cached prompt prefixes (KV blocks).")
    var prefixCache: OnOff = .on
    @Option(name: .customLong("prefix-cache-mb"), help: "Transformer: prefix cache memory budget, MB.")
    var prefixCacheMB: Int = 256
    @Option(
        name: .customLong("response-cache"),
        help: "Answer repeated deterministic requests (temperature 0 or a seed) from memory.")
    var responseCache: OnOff = .off
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
    @Option(
        name: .customLong("api-key"),
        help: ArgumentHelp(
            "Require this key on the completion endpoints: 'Authorization: Bearer KEY' on the OpenAI and Ollama ones, "
                + "'x-api-key: KEY' on /v1/messages (401 otherwise); /health, /ready and /metrics stay open."))
    var apiKey: String?

    var settings: ServeSettings {
        var s = ServeSettings(durations: .init(parse: DurationParser.parse, expectation: DurationParser.expectation))
        (s.engine, s.model, s.threads, s.ctx, s.host, s.port) = (engine, model, threads, ctx, host, port)
        (s.ttftMs, s.itlMs, s.tokens, s.contextLength) = (ttftMs, itlMs, tokens, contextLength)
        (s.reasoningTokens, s.toolCalls, s.maxRunning, s.itlPerRunningMs) = (
            reasoningTokens, toolCalls, maxRunning, itlPerRunningMs
        )
        (s.tlsCert, s.tlsKey, s.traceFile, s.weights, s.batching) = (tlsCert, tlsKey, traceFile, weights, batching)
        (s.maxBatch, s.prefillChunk, s.prefixCache, s.prefixCacheMB) = (
            maxBatch, prefillChunk, prefixCache, prefixCacheMB
        )
        (s.responseCache, s.responseCacheEntries, s.responseCacheMB, s.responseCacheTTL) = (
            responseCache, responseCacheEntries, responseCacheMB, responseCacheTTL
        )
        (s.speculative, s.draftTokens, s.draftMinConfidence) = (speculative, draftTokens, draftMinConfidence)
        (s.maxBody, s.headerTimeout, s.maxQueue) = (maxBody, headerTimeout, maxQueue)
        (s.fault, s.faultMix, s.faultSeed, s.faultAfter) = (fault, faultMix, faultSeed, faultAfter)
        (s.faultStall, s.faultDrip, s.faultTokensPerEvent) = (faultStall, faultDrip, faultTokensPerEvent)
        (s.apiKey, s.device) = (apiKey, device)
        return s
    }

    func validate() throws {
        do {
            try settings.validate()
        } catch {
            throw ValidationError(error.description)
        }
        if let cpus {
            do {
                _ = try CPUSet(parsing: cpus)
            } catch {
                throw ValidationError("--cpus: \(error)")
            }
        }
    }

    func run() async throws {
        ParentWatch.startIfAsked()
        if let cpus {
            // Before the engine and the server start their threads: they inherit the set.
            do {
                try CPUSet(parsing: cpus).pinProcess()
            } catch {
                throw CLIError.failure("serve: --cpus: \(error)")
            }
            FileHandle.standardError.write(Data("serve: running on CPUs \(CPUSet.allowed() ?? cpus)\n".utf8))
        }
        do {
            try await settings.serve()
        } catch let error as ServeSettings.Invalid {
            throw CLIError.invalid(error.description)
        } catch {
            throw CLIError.failure("serve: \(error)")
        }
    }
}

extension ServeEngine: ExpressibleByArgument {}
extension OnOff: ExpressibleByArgument {}
extension BatchingMode: ExpressibleByArgument {}
extension WeightFormat: ExpressibleByArgument {}

/// `--device cpu|vulkan|vulkan:N` (serve, bench-engine, lab): anything else is refused with the accepted values.
extension ComputeDevice: ExpressibleByArgument {
    public static var allValueStrings: [String] { argumentList.split(separator: "|").map(String.init) }
    public var defaultValueDescription: String { description }

    /// The option's help: what it sets and the device picker's rule (ArgumentParser adds the accepted values).
    static func help(_ what: String) -> ArgumentHelp {
        ArgumentHelp(
            "\(what). vulkan is the first Vulkan GPU (a CPU device such as Mesa's lavapipe only with "
                + "LLMPERF_VULKAN_ALLOW_CPU=1); vulkan:N is device N as the Vulkan loader lists them; auto is the "
                + "first Vulkan GPU when one can be used, else the CPU.",
            valueName: "device")
    }
}
