import Foundation
import InferenceEngine
import LLMTokenizer
import NIOConcurrencyHelpers

/// A misbehaviour the server can put into a completion response on purpose (`llmperf serve --fault`), so
/// that clients and gateways can be tested against every way an endpoint fails.
public enum ServerFault: String, CaseIterable, Sendable {
    /// A healthy answer.
    case none
    /// 429 with `Retry-After: 1` and an OpenAI-style `rate_limit_exceeded` body.
    case http429 = "http_429"
    /// 500 with an OpenAI-style JSON error body.
    case http500 = "http_500"
    /// 503 with `content-type: text/html` and an HTML page.
    case http503HTML = "http_503_html"
    /// The whole request is read, then the connection is reset (RST) with no response byte.
    case resetBeforeResponse = "reset_before_response"
    /// `after` content events, then the connection is reset.
    case resetMidStream = "reset_mid_stream"
    /// Headers and the role chunk, then `stall` before the first content event; then as usual.
    case stallFirstToken = "stall_first_token"
    /// `after` content events, then `stall`; then as usual.
    case stallMidStream = "stall_mid_stream"
    /// After `after` content events one `data:` event whose JSON is cut off; then as usual.
    case malformedJSON = "malformed_json"
    /// One content string carries the raw bytes 0xFF 0xFE (invalid UTF-8).
    case invalidUTF8 = "invalid_utf8"
    /// One content event whose string is 4 MiB.
    case hugeEvent = "huge_event"
    /// A complete stream (finish reason, usage) without `data: [DONE]`, ended cleanly.
    case noDone = "no_done"
    /// Every byte of the response body written on its own, `drip` apart.
    case drip
    /// A healthy SSE stream labelled `content-type: application/json`.
    case wrongContentType = "wrong_content_type"
    /// Three events with `"choices":[]` before the first content event.
    case emptyChoices = "empty_choices"
    /// A `: ping` comment line before every event after the first.
    case pingComments = "ping_comments"
    /// CRLF line endings throughout the SSE stream.
    case crlf
    /// `tokensPerEvent` tokens per content event; usage reports the true count.
    case multiTokenEvents = "multi_token_events"
    /// `/v1/messages` and `/v1/responses`: after `after` content deltas an SSE `error` event, and the stream
    /// ends, as those APIs carry errors in a stream: Anthropic's `overloaded_error` (a non-streamed request
    /// gets 529 `overloaded_error`, the status Anthropic gives it outside a stream), the Responses API's
    /// `server_is_overloaded` (503 when not streamed).
    case overloadedMidStream = "overloaded_mid_stream"

    /// The request header that picks a fault for one request, overriding `--fault` and `--fault-mix`.
    public static let headerName = "x-llmperf-fault"

    /// All names, comma-separated (for error messages).
    public static var validNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Parses a name; the error lists the valid ones.
    public init(name: String) throws(FaultConfigurationError) {
        guard let fault = ServerFault(rawValue: name) else { throw .unknownFault(name) }
        self = fault
    }

    /// Whether the fault can be put into an answer of `dialect`'s endpoints; a request drawn (or asking for)
    /// one that cannot is refused with 400 rather than answered as if healthy. Anthropic's streams have no
    /// `choices` and their events are whole SSE blocks with a name, so the faults that alter OpenAI's
    /// content events do not apply to them; the Anthropic-style error event does not apply to OpenAI's.
    /// The Responses API's streams are typed events too, and end with `response.completed` rather than
    /// `[DONE]`, so `no_done` does not apply to them either.
    /// Ollama's NDJSON lines take the HTTP-level faults, the resets and stalls, `no_done` (the last
    /// line, `done: true`, is left out) and `drip`; the SSE-framing and OpenAI-shape faults do not apply.
    /// llama.cpp's and TGI's native endpoints take the HTTP-level faults only (429, 500, the HTML 503, the
    /// reset before the response); the stream faults are OpenAI- or Anthropic-shaped.
    func applies(to dialect: ResponseDialect) -> Bool {
        if dialect == .llamaCpp || dialect == .tgi {
            switch self {
            case .none, .http429, .http500, .http503HTML, .resetBeforeResponse: return true
            default: return false
            }
        }
        switch (self, dialect) {
        case (.none, .ollama), (.http429, .ollama), (.http500, .ollama), (.http503HTML, .ollama),
            (.resetBeforeResponse, .ollama), (.resetMidStream, .ollama), (.stallFirstToken, .ollama),
            (.stallMidStream, .ollama), (.noDone, .ollama), (.drip, .ollama):
            return true
        case (_, .ollama): return false
        case (.overloadedMidStream, .openAI): return false
        case (.malformedJSON, .openAIResponses), (.invalidUTF8, .openAIResponses), (.hugeEvent, .openAIResponses),
            (.emptyChoices, .openAIResponses), (.multiTokenEvents, .openAIResponses), (.noDone, .openAIResponses):
            return false
        case (.malformedJSON, .anthropic), (.invalidUTF8, .anthropic), (.hugeEvent, .anthropic),
            (.emptyChoices, .anthropic), (.multiTokenEvents, .anthropic):
            return false
        default: return true
        }
    }

    /// The names of the faults that apply to `dialect` (for error messages).
    static func validNames(for dialect: ResponseDialect) -> String {
        allCases.filter { $0.applies(to: dialect) }.map(\.rawValue).joined(separator: ", ")
    }

    /// Faults that only a streamed response can show; a non-streamed request gets a healthy answer instead.
    var needsStream: Bool {
        switch self {
        case .none, .http429, .http500, .http503HTML, .resetBeforeResponse, .drip: return false
        default: return true
        }
    }
}

/// How `llmperf serve` injects faults.
public struct FaultConfiguration: Sendable, Equatable {
    public enum Selection: Sendable, Equatable {
        /// The same fault for every request.
        case every(ServerFault)
        /// A seeded weighted draw per completion request: the n-th request drawn gets the same fault for the
        /// same seed.
        case mix([Weighted], seed: UInt64)
    }

    public struct Weighted: Sendable, Equatable {
        public var fault: ServerFault
        public var weight: Double

        public init(_ fault: ServerFault, weight: Double) {
            self.fault = fault
            self.weight = weight
        }
    }

    public var selection: Selection
    /// Content events before a mid-stream fault (`--fault-after`).
    public var after: Int
    /// How long a stall lasts (`--fault-stall`).
    public var stall: Duration
    /// The pause between two bytes under `drip` (`--fault-drip`).
    public var drip: Duration
    /// Tokens per content event under `multi_token_events` (`--fault-tokens-per-event`).
    public var tokensPerEvent: Int

    public init(
        selection: Selection = .every(.none), after: Int = 3, stall: Duration = .seconds(30),
        drip: Duration = .milliseconds(1), tokensPerEvent: Int = 4
    ) {
        self.selection = selection
        self.after = after
        self.stall = stall
        self.drip = drip
        self.tokensPerEvent = tokensPerEvent
    }

    /// Parses `--fault-mix`: `NAME=WEIGHT,NAME=WEIGHT` (weights ≥ 0, at least one > 0).
    public static func parseMix(_ text: String) throws(FaultConfigurationError) -> [Weighted] {
        var out: [Weighted] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            let name = parts.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            guard parts.count == 2, let weight = Double(parts[1].trimmingCharacters(in: .whitespaces)), weight.isFinite,
                weight >= 0
            else {
                throw .badMixItem(String(item))
            }
            out.append(Weighted(try ServerFault(name: name), weight: weight))
        }
        guard out.contains(where: { $0.weight > 0 }) else { throw .badMixItem(text) }
        return out
    }
}

public enum FaultConfigurationError: Error, Equatable, CustomStringConvertible {
    case unknownFault(String)
    case badMixItem(String)

    public var description: String {
        switch self {
        case .unknownFault(let name):
            return "unknown fault '\(name)'; valid faults: \(ServerFault.validNames)"
        case .badMixItem(let item):
            return "expected NAME=WEIGHT[,NAME=WEIGHT…] with weights ≥ 0 (at least one > 0), got '\(item)'"
        }
    }
}

/// Picks each completion request's fault.
final class FaultInjector: Sendable {
    let configuration: FaultConfiguration
    private let drawn = NIOLockedValueBox<UInt64>(0)

    init(configuration: FaultConfiguration) {
        self.configuration = configuration
    }

    /// The fault for the next request: the fixed one, or the next seeded draw.
    func next() -> ServerFault {
        switch configuration.selection {
        case .every(let fault):
            return fault
        case .mix(let weights, let seed):
            let index = drawn.withLockedValue { count in
                defer { count += 1 }
                return count
            }
            return Self.draw(weights, seed: seed, index: index)
        }
    }

    /// The `index`-th draw for `seed`: a pure function, so a seed always gives the same sequence.
    static func draw(_ weights: [FaultConfiguration.Weighted], seed: UInt64, index: UInt64) -> ServerFault {
        // The (index + 1)-th SplitMix64 output for `seed`, computed directly: independent, well-mixed
        // draws without shared generator state.
        var generator = SplitMix64(state: seed &+ index &* 0x9E37_79B9_7F4A_7C15)
        let z = generator.next()
        let unit = Double(z >> 11) / Double(1 << 53)
        let total = weights.reduce(0) { $0 + $1.weight }
        var point = unit * total
        for item in weights where item.weight > 0 {
            if point < item.weight { return item.fault }
            point -= item.weight
        }
        return weights.last(where: { $0.weight > 0 })?.fault ?? .none
    }
}
