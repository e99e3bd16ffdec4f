/// What an engine yields for one request: batches of decoded pieces, the last one carrying
/// the finish. A batch holds every piece that became ready since the consumer last asked,
/// so a fast engine costs one async hop per batch, not per token.
public struct GenerationStream: AsyncSequence, Sendable {
    public typealias Element = GenerationBatch

    /// Headers to add to the HTTP response (e.g. `x-cache: hit`); known before the first token.
    public var responseHeaders: [(name: String, value: String)]
    /// Set when the engine refused the request before starting it (its queue is full): the server answers
    /// with this error and never iterates the stream.
    public var refusal: APIError?
    /// The answer starts with a tool call (no reasoning or text before it). A chat stream then sends no
    /// separate role event: the call's opening event carries the role, as OpenAI's streams do.
    public var opensWithToolCall = false
    private let makeNext: @Sendable () -> (() async throws -> GenerationBatch?)
    private let onCancel: @Sendable () -> Void

    /// - Parameters:
    ///   - makeNext: called once, when iteration starts; returns the function that yields each batch
    ///     (nil after the batch carrying the finish).
    ///   - onCancel: called when the consumer stops early (stop sequence matched, client went away).
    public init(
        responseHeaders: [(name: String, value: String)] = [],
        makeNext: @escaping @Sendable () -> (() async throws -> GenerationBatch?),
        onCancel: @escaping @Sendable () -> Void = {}
    ) {
        self.responseHeaders = responseHeaders
        self.makeNext = makeNext
        self.onCancel = onCancel
    }

    /// A stream that is never iterated: the engine refused the request with `error`.
    public static func refused(_ error: APIError) -> GenerationStream {
        var stream = GenerationStream(makeNext: { { nil } })
        stream.refusal = error
        return stream
    }

    /// Tells the engine the consumer is done before the stream finished.
    public func cancel() { onCancel() }

    public func makeAsyncIterator() -> Iterator { Iterator(next: makeNext()) }

    public struct Iterator: AsyncIteratorProtocol {
        fileprivate let nextBatch: () async throws -> GenerationBatch?

        fileprivate init(next: @escaping () async throws -> GenerationBatch?) { self.nextBatch = next }

        public mutating func next() async throws -> GenerationBatch? { try await nextBatch() }
    }
}

/// Pieces that became ready together; `finish` is set on the last batch of a request.
public struct GenerationBatch: Sendable {
    public var pieces: [GeneratedPiece]
    public var finish: GenerationFinish?

    public init(pieces: [GeneratedPiece], finish: GenerationFinish? = nil) {
        self.pieces = pieces
        self.finish = finish
    }
}

/// Decoded text and how many tokens it took (one SSE event per piece).
public struct GeneratedPiece: Sendable, Equatable {
    /// Which part of a chat answer a piece belongs to. The text-completions API has no place for
    /// anything but text: engines yield `.content` only for requests that are not chat.
    public enum Kind: Sendable, Equatable {
        /// Answer text (`delta.content`, completions `text`).
        case content
        /// Reasoning before the answer (`delta.reasoning_content`).
        case reasoning
        /// Opens a function call (`tool_calls[0]` with its id and name); its text is the arguments' first
        /// text (usually empty) and it takes the tokens of the name. The `.toolArguments` pieces that follow
        /// are the rest of the call's arguments.
        case toolCall(id: String, name: String)
        /// A fragment of the open call's JSON arguments (`tool_calls[0].function.arguments`).
        case toolArguments
    }

    public var text: String
    public var tokenCount: Int
    public var kind: Kind

    public init(text: String, tokenCount: Int = 1, kind: Kind = .content) {
        self.text = text
        self.tokenCount = tokenCount
        self.kind = kind
    }
}

/// Why and how a generation ended.
public struct GenerationFinish: Sendable, Equatable {
    /// `finish_reason` as sent to the client.
    public enum Reason: String, Sendable, Equatable {
        /// Natural end (end of sequence, or a stop sequence matched).
        case stop
        /// `max_tokens` reached (or the context is full).
        case length
        /// The answer is a tool call.
        case toolCalls = "tool_calls"
    }

    public var reason: Reason
    public var usageDetails: UsageDetails

    public init(reason: Reason, usageDetails: UsageDetails = UsageDetails()) {
        self.reason = reason
        self.usageDetails = usageDetails
    }
}

/// Per-request extras beyond the token counts the server derives itself.
public struct UsageDetails: Sendable, Equatable {
    /// Prompt tokens served from a prefix cache (`usage.prompt_tokens_details.cached_tokens`).
    public var cachedPromptTokens: Int?
    /// Further integer fields rendered into `usage` as-is (e.g. speculative-decoding acceptance counts).
    public var extra: [String: Int]

    public init(cachedPromptTokens: Int? = nil, extra: [String: Int] = [:]) {
        self.cachedPromptTokens = cachedPromptTokens
        self.extra = extra
    }
}
