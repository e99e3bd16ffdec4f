import Foundation
import InferenceEngine
import LLMTokenizer

/// `--engine` of `llmperf serve`.
public enum ServeEngine: String, CaseIterable, Sendable {
    case transformer, synthetic
}

/// A switch given as `on` or `off`.
public enum OnOff: String, CaseIterable, Sendable {
    case on, off
}

/// `--batching`: per-iteration batching, or one request at a time.
public enum BatchingMode: String, CaseIterable, Sendable {
    case continuous, off
}

/// The options of `llmperf serve`, checked together and turned into a server configuration.
/// The defaults are the command's.
public struct ServeSettings: Sendable {
    /// An option (or a combination) that cannot be served; the message names the option.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// How the duration options (`--response-cache-ttl`, `--header-timeout`, `--fault-stall`,
    /// `--fault-drip`) are read, and how a complaint describes them: the executable hands in the
    /// profiler's duration parser, which the server side does not import.
    public struct DurationReader: Sendable {
        public var parse: @Sendable (String) -> Duration?
        public var expectation: String

        public init(parse: @escaping @Sendable (String) -> Duration?, expectation: String) {
            self.parse = parse
            self.expectation = expectation
        }
    }

    public var durations: DurationReader
    public var engine: ServeEngine?
    public var model: String?
    public var threads = 2
    public var ctx: Int?
    public var host = "127.0.0.1"
    public var port = 8080
    public var ttftMs: Double = 0
    public var itlMs: Double = 0
    public var tokens = 128
    public var contextLength = 1 << 20
    public var reasoningTokens = 0
    public var toolCalls = false
    public var maxRunning: Int?
    public var itlPerRunningMs: Double = 0
    public var tlsCert: String?
    public var tlsKey: String?
    public var traceFile: String?
    public var weights: WeightFormat = .native
    public var batching: BatchingMode = .continuous
    public var maxBatch = 8
    public var prefillChunk = 128
    public var prefixCache: OnOff = .on
    public var prefixCacheMB = 256
    public var responseCache: OnOff = .off
    public var responseCacheEntries = 1024
    public var responseCacheMB = 64
    public var responseCacheTTL = "10m"
    public var speculative = "off"
    public var draftTokens = 4
    public var draftMinConfidence: Double = 0
    public var maxBody = "8MiB"
    public var headerTimeout = "60s"
    public var maxQueue: Int?
    public var fault: String?
    public var faultMix: String?
    public var faultSeed: UInt64 = 0
    public var faultAfter = 3
    public var faultStall = "30s"
    public var faultDrip = "1ms"
    public var faultTokensPerEvent = 4
    /// `--api-key`: the key the completion endpoints require (none by default).
    public var apiKey: String?
    /// `--device`: where the transformer engine's forward passes run.
    public var device: ComputeDevice = .cpu

    public init(durations: DurationReader) { self.durations = durations }

    /// `--engine`, else transformer when `--model` is given, else synthetic.
    public var resolvedEngine: ServeEngine { engine ?? (model == nil ? .synthetic : .transformer) }

    /// Every check of the command line, in the order the complaints are given.
    public func validate() throws(Invalid) {
        let synthetic = resolvedEngine == .synthetic
        if synthetic, model != nil { throw Invalid("--model applies to the transformer engine, not synthetic") }
        guard (1...64).contains(threads) else { throw Invalid("--threads must be 1…64, got \(threads)") }
        if let ctx, ctx < 16 { throw Invalid("--ctx must be at least 16, got \(ctx)") }
        guard (0...65_535).contains(port) else { throw Invalid("--port must be 0…65535, got \(port)") }
        guard ttftMs >= 0, itlMs >= 0 else { throw Invalid("--ttft-ms and --itl-ms must be ≥ 0") }
        guard tokens > 0 else { throw Invalid("--tokens must be > 0, got \(tokens)") }
        guard reasoningTokens >= 0 else { throw Invalid("--reasoning-tokens must be ≥ 0, got \(reasoningTokens)") }
        if let maxRunning, !(1...100_000).contains(maxRunning) {
            throw Invalid("--max-running must be 1…100000, got \(maxRunning)")
        }
        guard itlPerRunningMs >= 0, itlPerRunningMs <= 60_000 else {
            throw Invalid("--itl-per-running-ms must be 0…60000, got \(itlPerRunningMs)")
        }
        if let apiKey, apiKey.isEmpty || apiKey.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw Invalid("--api-key must be non-empty and without spaces")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw Invalid("--tls-cert and --tls-key go together") }
        guard (1...256).contains(maxBatch) else { throw Invalid("--max-batch must be 1…256, got \(maxBatch)") }
        guard prefillChunk >= 1 else { throw Invalid("--prefill-chunk must be ≥ 1, got \(prefillChunk)") }
        guard prefixCacheMB >= 1 else { throw Invalid("--prefix-cache-mb must be ≥ 1, got \(prefixCacheMB)") }
        guard responseCacheEntries >= 1, responseCacheMB >= 1 else {
            throw Invalid("--response-cache-entries and --response-cache-mb must be ≥ 1")
        }
        guard responseCacheTTLDuration != nil else {
            throw Invalid("--response-cache-ttl: expected a duration such as 30s, 10m or 1h, got '\(responseCacheTTL)'")
        }
        do {
            _ = try SpeculationMode(argument: speculative)
        } catch {
            throw Invalid("--speculative: \(error)")
        }
        guard (0...1).contains(draftMinConfidence) else {
            throw Invalid("--draft-min-confidence must be 0…1, got \(draftMinConfidence)")
        }
        guard (1...16).contains(draftTokens) else { throw Invalid("--draft-tokens must be 1…16, got \(draftTokens)") }
        guard parsedMaxBody != nil else {
            throw Invalid("--max-body: expected a size such as 8MiB, 512KiB or 1048576 (> 0), got '\(maxBody)'")
        }
        guard let timeout = durations.parse(headerTimeout), timeout > .zero else {
            throw Invalid("--header-timeout: expected \(durations.expectation), got '\(headerTimeout)'")
        }
        if let maxQueue, maxQueue < 0 { throw Invalid("--max-queue must be ≥ 0, got \(maxQueue)") }
        if synthetic {
            if maxQueue != nil {
                throw Invalid(
                    "--max-queue applies to the transformer engine (the synthetic engine's --max-running queue has no "
                        + "bound)")
            }
        } else if fault != nil || faultMix != nil {
            throw Invalid("--fault and --fault-mix apply to the synthetic engine")
        } else if maxRunning != nil || itlPerRunningMs > 0 {
            throw Invalid(
                "\(maxRunning != nil ? "--max-running" : "--itl-per-running-ms") applies to the synthetic engine "
                    + "(the transformer engine's batch is --max-batch, and its pace is the model's)")
        } else if reasoningTokens > 0 || toolCalls {
            // A real model reasons and calls tools only when it was trained to and a parser reads them out.
            throw Invalid(
                "\(reasoningTokens > 0 ? "--reasoning-tokens" : "--tool-calls") applies only to the synthetic engine "
                    + "(it shapes the synthetic answers; the transformer engine streams what the model writes)")
        }
        _ = try faultConfiguration()
        if synthetic {
            let transformerOnly = [
                ("--weights", weights != .native), ("--batching", batching != .continuous),
                ("--prefix-cache", prefixCache != .on), ("--speculative", speculative != "off"),
                ("--device", device != .cpu),
            ]
            if let (flag, _) = transformerOnly.first(where: { $0.1 }) {
                throw Invalid("\(flag) applies to the transformer engine, not synthetic")
            }
        }
    }

    var responseCacheTTLDuration: Duration? {
        guard let duration = durations.parse(responseCacheTTL), duration > .zero else { return nil }
        return duration
    }

    var responseCacheConfiguration: ResponseCache.Configuration? {
        guard responseCache == .on, let ttl = responseCacheTTLDuration else { return nil }
        return ResponseCache.Configuration(maxEntries: responseCacheEntries, maxBytes: responseCacheMB << 20, ttl: ttl)
    }

    /// `--max-body` in bytes: a whole number with an optional unit (B, KiB, MiB, GiB; KB/MB/GB are read the same).
    public var parsedMaxBody: Int? {
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
    public func faultConfiguration() throws(Invalid) -> FaultConfiguration? {
        guard fault == nil || faultMix == nil else { throw Invalid("--fault and --fault-mix exclude each other") }
        guard faultAfter >= 0 else { throw Invalid("--fault-after must be ≥ 0, got \(faultAfter)") }
        guard faultTokensPerEvent >= 1 else {
            throw Invalid("--fault-tokens-per-event must be ≥ 1, got \(faultTokensPerEvent)")
        }
        guard let stall = durations.parse(faultStall), stall >= .zero else {
            throw Invalid("--fault-stall: expected \(durations.expectation), got '\(faultStall)'")
        }
        guard let drip = durations.parse(faultDrip), drip >= .zero else {
            throw Invalid("--fault-drip: expected \(durations.expectation), got '\(faultDrip)'")
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
            throw Invalid("\(fault != nil ? "--fault" : "--fault-mix"): \(error)")
        }
        return FaultConfiguration(
            selection: selection, after: faultAfter, stall: stall, drip: drip, tokensPerEvent: faultTokensPerEvent)
    }

    /// The transformer engine's options from the command line (the draft model's path as given).
    var transformerOptions: TransformerServingOptions {
        TransformerServingOptions(
            threads: threads, contextLength: ctx, weights: weights, continuousBatching: batching == .continuous,
            maxBatch: maxBatch, prefillChunk: prefillChunk,
            prefixCacheBytes: prefixCache == .on ? prefixCacheMB << 20 : nil,
            speculation: (try? SpeculationMode(argument: speculative)) ?? .off, draftTokens: draftTokens,
            draftMinimumConfidence: Float(draftMinConfidence), maxQueue: maxQueue, device: device)
    }

    /// The server to run; a model or draft that cannot be found is `Invalid` (exit 2).
    public func configuration() throws(Invalid) -> ServerConfiguration {
        try configuration(onTransformerLoaded: nil)
    }

    /// - Parameter onTransformerLoaded: called with the transformer engine once its model is loaded.
    func configuration(onTransformerLoaded: (@Sendable (TransformerServingEngine) -> Void)?) throws(Invalid)
        -> ServerConfiguration
    {
        let servedEngine: ServerConfiguration.Engine
        if resolvedEngine == .transformer {
            let name = model ?? "default"
            let path: String
            do {
                path = try ModelLocator.resolve(name)
            } catch {
                throw Invalid("\(error)")
            }
            var options = transformerOptions
            if case .draft(let draft) = options.speculation {
                do {
                    options.speculation = .draft(path: try ModelLocator.resolve(draft))
                } catch {
                    throw Invalid("--speculative draft:\(draft): \(error)")
                }
            }
            let cache = responseCacheConfiguration
            servedEngine = .custom { [options] in
                let engine = try TransformerServingEngine(path: path, servedName: name, options: options)
                onTransformerLoaded?(engine)
                guard let cache else { return engine }
                return ResponseCachingEngine(wrapping: engine, configuration: cache, defaultTemperatureIsGreedy: true)
            }
        } else {
            let synthetic = SyntheticEngine.Configuration(
                modelName: "synthetic", ttftMs: ttftMs, itlMs: itlMs, defaultTokens: tokens,
                contextLength: contextLength, reasoningTokens: reasoningTokens, toolCalls: toolCalls,
                maxRunning: maxRunning, itlPerRunningMs: itlPerRunningMs)
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
        return ServerConfiguration(
            host: host, port: port, engine: servedEngine, tlsCertificatePath: tlsCert, tlsKeyPath: tlsKey,
            tracePath: traceFile, maxBodyBytes: parsedMaxBody ?? 8 << 20,
            headerTimeout: durations.parse(headerTimeout) ?? .seconds(60),
            faults: try faultConfiguration(), apiKey: apiKey)
    }

    /// Serves until SIGINT/SIGTERM, printing `listening on URL` once bound (a parent process
    /// waits for that line) and, for the transformer engine, `model NAME loaded on DEVICE` once its model is
    /// loaded. Throws `Invalid` for a model that cannot be found, else the server's error (a Vulkan device that
    /// cannot be used: its `VulkanError`).
    public func serve() async throws {
        let name = model ?? "default"
        let configuration = try configuration { engine in
            FileHandle.standardOutput.write(Data("model \(name) loaded on \(engine.deviceDescription)\n".utf8))
        }
        try await LLMServer.run(configuration: configuration) { bound in
            FileHandle.standardOutput.write(Data("listening on \(bound.url)\n".utf8))
        }
    }
}
