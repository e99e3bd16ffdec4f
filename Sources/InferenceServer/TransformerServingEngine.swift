import Foundation
import InferenceEngine
import VulkanEngine

/// How the transformer engine serves: weights, scheduling and the serving optimizations, each a switch so it can
/// be measured on and off.
public struct TransformerServingOptions: Sendable {
    /// Compute threads.
    public var threads: Int
    /// KV capacity per sequence; nil = the model's trained length (capped at 4096).
    public var contextLength: Int?
    /// Convert the weights at load (`--weights`).
    public var weights: WeightFormat
    /// Continuous batching; false serves one request at a time, first come first served.
    public var continuousBatching: Bool
    /// Sequences decoded together when batching.
    public var maxBatch: Int
    /// Prompt tokens per scheduler iteration when batching (chunked prefill).
    public var prefillChunk: Int
    /// Prefix (KV) cache budget in bytes; nil = off.
    public var prefixCacheBytes: Int?
    public var speculation: SpeculationMode
    /// Tokens drafted per step when speculating.
    public var draftTokens: Int
    /// Model drafters stop drafting before a token they give less than this probability (0: always `draftTokens`).
    public var draftMinimumConfidence: Float
    /// Most requests waiting for a batch slot; one more is answered 429 with `Retry-After` (nil = no limit).
    public var maxQueue: Int?
    /// Where the forward passes run (`--device`): the CPU, or a Vulkan device (a draft model runs there too).
    public var device: ComputeDevice

    public init(
        threads: Int = 2, contextLength: Int? = nil, weights: WeightFormat = .native, continuousBatching: Bool = true,
        maxBatch: Int = 8, prefillChunk: Int = 128, prefixCacheBytes: Int? = 256 << 20,
        speculation: SpeculationMode = .off, draftTokens: Int = 4, draftMinimumConfidence: Float = 0,
        maxQueue: Int? = nil, device: ComputeDevice = .cpu
    ) {
        self.threads = threads
        self.contextLength = contextLength
        self.weights = weights
        self.continuousBatching = continuousBatching
        self.maxBatch = maxBatch
        self.prefillChunk = prefillChunk
        self.prefixCacheBytes = prefixCacheBytes
        self.speculation = speculation
        self.draftTokens = draftTokens
        self.draftMinimumConfidence = draftMinimumConfidence
        self.maxQueue = maxQueue
        self.device = device
    }
}

/// The real model behind the server: a GGUF transformer with its tokenizer and chat template.
/// HTTP handlers call `prepare` (template + tokenize) on their own tasks; one dedicated
/// inference thread owns the model and schedules requests (`BatchScheduler`), handing tokens
/// to each request's `GenerationChannel`.
public final class TransformerServingEngine: ServingEngine, @unchecked Sendable {
    public let modelName: String
    public let contextLength: Int
    public let options: TransformerServingOptions
    /// Where the forward passes run: `cpu`, or the Vulkan device (`vulkan:0 NAME (KIND)`).
    public let deviceDescription: String
    let model: TransformerModel
    /// The draft model of `draft:` and `self:` speculation.
    let draftModel: TransformerModel?
    private let scheduler: BatchScheduler

    /// Loads the model at `path`; `servedName` is the name clients send as `model`.
    public convenience init(path: String, servedName: String, threads: Int, contextLength: Int?) throws {
        try self.init(
            path: path, servedName: servedName,
            options: TransformerServingOptions(threads: threads, contextLength: contextLength))
    }

    /// Loads the model at `path` on `options.device` (and a draft model when the options ask for one, on the same
    /// device: its own weights and caches there, the device opened once). A device that cannot be used throws
    /// its `VulkanError`.
    public init(path: String, servedName: String, options: TransformerServingOptions) throws {
        let device = options.device
        let model = try EngineLoader.load(
            path: path, device: device, threads: options.threads, contextLength: options.contextLength,
            weights: options.weights)
        var draftModel: TransformerModel?
        switch options.speculation {
        case .off, .ngram:
            break
        case .draft(let draftPath):
            let draft = try EngineLoader.load(
                path: draftPath, device: device, threads: options.threads, contextLength: model.contextLength,
                backend: model.backend)
            try ModelDrafter.checkCompatible(target: model, draft: draft)
            draftModel = draft
        case .selfQuantized(let format):
            draftModel = try EngineLoader.load(
                path: path, device: device, threads: options.threads, contextLength: model.contextLength,
                weights: format, backend: model.backend)
        }
        self.model = model
        self.draftModel = draftModel
        deviceDescription = model.deviceDescription
        self.options = options
        modelName = servedName
        contextLength = model.contextLength
        let prefixCache = options.prefixCacheBytes.map { PrefixCache(model: model, budgetBytes: $0) }
        let makeDrafter: (() -> SpeculativeDrafter)?
        switch options.speculation {
        case .off:
            makeDrafter = nil
        case .ngram:
            makeDrafter = { NGramDrafter() }
        case .draft, .selfQuantized:
            let draft = draftModel!
            let confidence = options.draftMinimumConfidence
            makeDrafter = {
                let drafter = ModelDrafter(model: draft)
                drafter.minimumConfidence = confidence
                return drafter
            }
        }
        scheduler = BatchScheduler(
            model: model,
            options: BatchScheduler.Options(
                maxBatch: options.continuousBatching ? max(1, options.maxBatch) : 1,
                prefillChunk: options.continuousBatching ? options.prefillChunk : nil,
                draftTokens: options.draftTokens, maxWaiting: options.maxQueue),
            prefixCache: prefixCache, makeDrafter: makeDrafter)
    }

    public var metricsText: String {
        let statistics = scheduler.statistics.withLock { $0 }
        var out = "# HELP llmperf_engine_device_info Where the engine's forward passes run (the device label).\n"
        out += "# TYPE llmperf_engine_device_info gauge\n"
        out += "llmperf_engine_device_info{device=\"\(PrometheusText.labelValue(deviceDescription))\"} 1\n"
        statistics.render(into: &out, speculative: options.speculation != .off)
        return out
    }

    public var schedulerLoad: SchedulerLoad { scheduler.load }

    /// Holds the inference loop between iterations (tests: queue requests, then release them together).
    func setSchedulingPaused(_ paused: Bool) { scheduler.setPaused(paused) }

    /// Lets a held inference loop run `count` more iterations (tests: put a request in flight, then hold).
    func allowSchedulingIterations(_ count: Int) { scheduler.allowIterations(count) }

    public func defaultMaxTokens(promptTokens: Int) -> Int { max(0, contextLength - promptTokens) }

    public func prepare(_ input: PromptInput) throws -> PreparedPrompt {
        let text: String
        switch input {
        case .chat(let messages):
            text = model.chatTemplate.render(
                messages: messages.map { (role: $0.role, content: $0.content) }, addGenerationPrompt: true)
        case .completion(let prompt):
            text = prompt
        }
        let tokens = model.tokenizer.encode(text, addSpecial: true)
        guard !tokens.isEmpty else { throw APIError.invalidRequest("the prompt is empty", param: "messages") }
        guard tokens.count < contextLength else {
            throw APIError.invalidRequest(
                "the prompt is \(tokens.count) tokens; this model's context is \(contextLength) tokens",
                param: "messages", code: "context_length_exceeded")
        }
        return PreparedPrompt(text: text, tokenIDs: tokens, tokenCount: tokens.count)
    }

    public func generate(_ request: GenerationRequest) -> GenerationStream {
        let channel = GenerationChannel()
        switch scheduler.submit(request, to: channel) {
        case .queued:
            return channel.stream
        case .queueFull:
            return .refused(
                APIError(
                    status: .tooManyRequests,
                    message: "The server's queue is full (\(options.maxQueue ?? 0) waiting requests); retry shortly.",
                    type: "server_error", code: "queue_full"))
        case .shuttingDown:
            return .refused(BatchScheduler.shuttingDown)
        }
    }

    /// The model's embedding length: embeddings are its mean-pooled, normalised last hidden state.
    public var embeddingWidth: Int { model.embeddingWidth }

    /// Raw text is tokenized as a text completion's prompt is (no chat template; BOS as the tokenizer adds it);
    /// token ids must be within the vocabulary.
    public func prepareEmbedding(_ input: EmbeddingInput) throws -> PreparedPrompt {
        switch input.content {
        case .text(let text):
            let tokens = model.tokenizer.encode(text, addSpecial: true)
            guard !tokens.isEmpty else {
                throw APIError.invalidRequest("'\(input.param)' has no tokens.", param: input.param)
            }
            return PreparedPrompt(text: text, tokenIDs: tokens, tokenCount: tokens.count)
        case .tokens(let ids):
            let vocabulary = model.vocabularySize
            if let bad = ids.first(where: { Int($0) >= vocabulary }) {
                throw APIError.invalidRequest(
                    "Invalid token id \(bad) in '\(input.param)': this model's vocabulary has \(vocabulary) tokens.",
                    param: input.param, code: "invalid_value")
            }
            return PreparedPrompt(text: "", tokenIDs: ids, tokenCount: ids.count)
        }
    }

    /// Queued to the inference thread, which runs each input between two scheduler iterations.
    public func embed(_ request: EmbeddingRequest) async throws -> [[Float]] {
        try await scheduler.embed(request.prompts.map(\.tokenIDs))
    }

    /// Drains: running requests finish as usual, waiting ones and later ones are answered 503
    /// (`server_shutting_down`), then the inference thread ends.
    public func shutdown() { scheduler.shutDown() }

    /// True once the inference thread has ended (after `shutdown`).
    var schedulerExited: Bool { scheduler.hasExited }
}
