import Benchmark
import BenchmarkSupport
import Foundation
import InferenceEngine
import LLMPerfCore
import LLMTokenizer

/// The engine's kernels and the default model: a matrix-vector product in every weight format
/// the kernels read (one thread, the shape of SmolLM2's feed-forward matrices), the tokenizer
/// on 1 MB of text, and one decode step. The last two need the default model
/// (`scripts/fetch-model`, `make model`); without it they are skipped with a message.
let benchmarks: @Sendable () -> Void = {
    let backend = CPUBackend(threads: 1)
    for type in GGMLType.allCases {
        Benchmark(
            "matvec-\(type.name.lowercased())-1536x576",
            configuration: BenchmarkSupport.configuration(
                maxIterations: 20_000, maxDuration: .seconds(2), mallocSlack: 2)
        ) { benchmark, product in
            product.input.withUnsafeBufferPointer { input in
                backend.matmul(product.weights, input: input.baseAddress!, count: 1, output: product.output)
            }
            blackHole(product.output[0])
        } setup: {
            MatrixProduct(type: type, rows: 1536, columns: 576, seed: 11)
        }
    }

    let modelPath = ModelLocator.defaultModelPath()
    guard FileManager.default.fileExists(atPath: modelPath) else {
        for name in ["tokenizer-encode-1mb", "decode-step-default-model", "decode-step-sequence-decoder"] {
            BenchmarkSupport.skip(name, because: "the default model is not installed (\(modelPath)); make model")
        }
        return
    }

    Benchmark(
        "tokenizer-encode-1mb",
        configuration: BenchmarkSupport.configuration(maxIterations: 5, maxDuration: .seconds(15))
    ) { benchmark, state in
        let ids = state.tokenizer.encode(state.text, addSpecial: false)
        precondition(!ids.isEmpty)
        blackHole(ids)
    } setup: {
        (tokenizer: try Tokenizer(file: GGUFFile(path: modelPath)), text: makeText(bytes: 1 << 20, seed: 3))
    }

    Benchmark(
        "decode-step-default-model",
        configuration: BenchmarkSupport.configuration(maxIterations: 500, maxDuration: .seconds(4), mallocSlack: 10)
    ) { benchmark, step in
        try step.run()
    } setup: {
        try DecodeStep(path: modelPath)
    }

    Benchmark(
        "decode-step-sequence-decoder",
        configuration: BenchmarkSupport.configuration(maxIterations: 400, maxDuration: .seconds(4), mallocSlack: 10)
    ) { benchmark, step in
        try step.run()
    } setup: {
        try SequenceDecoderStep(path: modelPath)
    }
}

/// One weight matrix of `type` (random values, encoded with the engine's own encoder and packed as
/// the model packs it), an input vector and an output vector.
final class MatrixProduct: @unchecked Sendable {
    let weights: WeightMatrix
    let input: [Float]
    let output: UnsafeMutablePointer<Float>
    private let storage: UnsafeMutableRawPointer

    init(type: GGMLType, rows: Int, columns: Int, seed: UInt64) {
        var random = ScenarioRandom(seed: seed)
        func value() -> Float { Float(random.below(2_001)) / 1000 - 1 }
        let values = (0..<rows * columns).map { _ in value() }
        let bytes = QuantizedBlocks.encode(values, as: type)
        storage = .allocate(byteCount: bytes.count, alignment: 64)
        storage.copyMemory(from: bytes, byteCount: bytes.count)
        var weights = WeightMatrix(
            name: "bench", type: type, rows: rows, columns: columns, data: UnsafeRawPointer(storage), owner: Owner())
        weights.pack()
        self.weights = weights
        input = (0..<columns).map { _ in value() }
        output = .allocate(capacity: rows)
    }

    deinit {
        storage.deallocate()
        output.deallocate()
    }

    /// The matrix's `owner`: the storage is this product's own.
    final class Owner {}
}

/// The default model after a 32-token prompt: each `run` forgets the previous step's position
/// and decodes one token there (every layer's matrices, attention over 32 positions, the logits).
final class DecodeStep: @unchecked Sendable {
    let model: TransformerModel
    let cache: KVCache
    let buffers: ForwardBuffers
    let promptLength: Int
    let token: Int32

    init(path: String) throws {
        model = try TransformerModel.load(path: path, threads: 1, contextLength: 256)
        cache = model.makeCache()
        buffers = ForwardBuffers(config: model.config)
        let prompt = Self.prompt(model)
        promptLength = prompt.count
        try model.forward(tokens: prompt, cache: cache, buffers: buffers, logits: .none)
        token = prompt[5]
    }

    /// A 32-token prompt: a question, padded with its last token.
    static func prompt(_ model: TransformerModel) -> [Int32] {
        let prompt = model.tokenizer.encode(
            "Explain continuous batching in one paragraph, then say how it changes the time per output token.",
            addSpecial: true)
        return Array((prompt + Array(repeating: prompt.last ?? 0, count: 32)).prefix(32))
    }

    func run() throws {
        cache.truncate(to: promptLength)
        let logits = try model.forward(tokens: [token], cache: cache, buffers: buffers)
        blackHole(logits[0])
    }
}

/// One step of the engine's decode loop, `SequenceDecoder` (greedy, end of sequence ignored) after the
/// same 32-token prompt: the forward pass of the pending token, then sampling the next one from the
/// logits. Each step is one position further on (33, 34, …; at most about 450 in a run).
final class SequenceDecoderStep: @unchecked Sendable {
    let decoder: SequenceDecoder
    let buffers: ForwardBuffers

    init(path: String) throws {
        let model = try TransformerModel.load(path: path, threads: 1, contextLength: 1024)
        buffers = ForwardBuffers(config: model.config)
        decoder = SequenceDecoder(
            model: model, cache: model.makeCache(), promptTokens: DecodeStep.prompt(model),
            parameters: GenerationParameters(maxTokens: 1_000), ignoreEndOfSequence: true)
        try run()  // the prompt
    }

    func run() throws {
        guard let entry = decoder.nextStep() else { preconditionFailure("the sequence finished: \(decoder.state)") }
        let tokens = decoder.complete(logits: try decoder.model.forward(batch: [entry], buffers: buffers)[0])
        blackHole(tokens)
    }
}

/// About `bytes` of English-like text (seeded): sentences of common words with capitals,
/// numbers, punctuation, line breaks, a little code and some non-ASCII.
func makeText(bytes: Int, seed: UInt64) -> String {
    var random = ScenarioRandom(seed: seed)
    let words = [
        "the", "a", "model", "token", "latency", "request", "server", "is", "of", "and", "to", "in", "we",
        "measure", "every", "first", "time", "per", "output", "batch", "continuous", "scheduling", "cache",
        "prefix", "memory", "bandwidth", "decode", "prefill", "throughput", "percentile", "under", "load",
    ]
    let extras = ["2024", "3.14", "p95", "42ms", "café", "naïve", "東京", "🙂", "x**2", "f(x)", "don't", "it's"]
    var text = ""
    text.reserveCapacity(bytes + 256)
    while text.utf8.count < bytes {
        var sentence = ""
        for w in 0..<(6 + random.below(14)) {
            var word =
                random.below(10) == 0 ? extras[random.below(extras.count)] : words[random.below(words.count)]
            if w == 0 { word = word.prefix(1).uppercased() + word.dropFirst() }
            sentence += (w == 0 ? "" : " ") + word
            if random.below(12) == 0 { sentence += "," }
        }
        text += sentence + [".", ".", ".", "?", "!"][random.below(5)]
        text += random.below(8) == 0 ? "\n\n" : " "
    }
    return text
}
