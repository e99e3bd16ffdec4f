import Foundation
import InferenceEngine

/// The real model behind the server: a GGUF transformer with its tokenizer and chat template.
/// HTTP handlers call `prepare` (template + tokenize) on their own tasks; one dedicated
/// inference thread owns the model's KV cache and runs requests one at a time, first come
/// first served, handing tokens to each request's `GenerationChannel`.
public final class TransformerServingEngine: ServingEngine, @unchecked Sendable {
    public let modelName: String
    public let contextLength: Int
    let model: TransformerModel
    private let loop: InferenceLoop

    /// Loads the model at `path`; `servedName` is the name clients send as `model`.
    public init(path: String, servedName: String, threads: Int, contextLength: Int?) throws {
        model = try TransformerModel.load(path: path, threads: threads, contextLength: contextLength)
        modelName = servedName
        self.contextLength = model.contextLength
        loop = InferenceLoop(model: model)
    }

    public var schedulerLoad: SchedulerLoad { loop.load }

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
        loop.submit(request, to: channel)
        return channel.stream
    }
}

/// The one thread that runs the model. Jobs wait in a FIFO queue.
final class InferenceLoop: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(GenerationRequest, GenerationChannel)] = []
    private var running = 0
    private let model: TransformerModel

    init(model: TransformerModel) {
        self.model = model
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "llmperf-inference"
        thread.stackSize = 8 << 20
        thread.start()
    }

    var load: SchedulerLoad {
        condition.lock()
        defer { condition.unlock() }
        return SchedulerLoad(waiting: queue.count, running: running)
    }

    func submit(_ request: GenerationRequest, to channel: GenerationChannel) {
        condition.lock()
        queue.append((request, channel))
        condition.signal()
        condition.unlock()
    }

    private func run() {
        let generator = Generator(model: model)
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let (request, channel) = queue.removeFirst()
            running = 1
            condition.unlock()
            if !channel.isCancelled { Self.serve(request, on: channel, with: generator) }
            condition.lock()
            running = 0
            condition.unlock()
        }
    }

    private static func serve(_ request: GenerationRequest, on channel: GenerationChannel, with generator: Generator) {
        let sampling = SamplingParameters(
            temperature: Float(request.temperature ?? 0), topP: Float(request.topP ?? 1), seed: request.seed ?? 0)
        let room = generator.cache.capacity - request.prompt.tokenIDs.count
        let parameters = GenerationParameters(maxTokens: max(0, min(request.maxTokens, room)), sampling: sampling)
        // A token whose text is held back (an incomplete UTF-8 sequence) is counted with the
        // next piece that carries text, so every streamed piece has content.
        var pending = 0
        let result = generator.generate(promptTokens: request.prompt.tokenIDs, parameters: parameters) { _, text in
            if text.isEmpty {
                pending += 1
            } else {
                channel.yield(GeneratedPiece(text: text, tokenCount: pending + 1))
                pending = 0
            }
            return !channel.isCancelled
        }
        if pending > 0 { channel.yield(GeneratedPiece(text: "", tokenCount: pending)) }
        switch result.finishReason {
        case .stop: channel.finish(GenerationFinish(reason: .stop))
        case .length: channel.finish(GenerationFinish(reason: .length))
        case .cancelled: channel.finish(GenerationFinish(reason: .stop))
        }
    }
}
