import Foundation
import NIOCore

/// The lines of one Ollama answer (`/api/chat` or `/api/generate`), as Ollama's API reference shows them
/// (github.com/ollama/ollama docs/api.md): every line an object with `model` and `created_at`; a token is
/// `message.content` (chat) or `response` (generate), reasoning is `message.thinking` or `thinking`, a tool
/// call is `message.tool_calls` with its arguments as a JSON object; the last line has `done: true`,
/// `done_reason`, the counts and the durations in nanoseconds. Each streamed line ends with "\n".
struct OllamaLines: Sendable {
    let isChat: Bool
    /// `{"model":…,"created_at":…,` shared by every line.
    private let head: String

    init(model: String, isChat: Bool, createdAt: Date = Date()) {
        self.isChat = isChat
        var head = "{\"model\":"
        JSONText.appendQuoted(model, to: &head)
        head += ",\"created_at\":"
        JSONText.appendQuoted(Self.timestamp(createdAt), to: &head)
        head += ","
        self.head = head
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// One streamed token: answer text, or reasoning when `thinking`.
    func token(_ text: String, thinking: Bool, to buffer: inout ByteBuffer) {
        buffer.writeString(head)
        if isChat {
            buffer.writeString(
                thinking
                    ? "\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\""
                    : "\"message\":{\"role\":\"assistant\",\"content\":\"")
        } else {
            buffer.writeString(thinking ? "\"response\":\"\",\"thinking\":\"" : "\"response\":\"")
        }
        JSONText.writeEscaped(text, to: &buffer)
        buffer.writeString(isChat ? "\"},\"done\":false}\n" : "\",\"done\":false}\n")
    }

    /// One streamed line with a whole tool call (chat only).
    func toolCall(name: String, arguments: String, to buffer: inout ByteBuffer) {
        buffer.writeString(head)
        buffer.writeString("\"message\":{\"role\":\"assistant\",\"content\":\"\",")
        buffer.writeString(Self.toolCalls(name: name, arguments: arguments))
        buffer.writeString("},\"done\":false}\n")
    }

    /// `"tool_calls":[{"function":{"name":…,"arguments":{…}}}]`; arguments that do not make a JSON object
    /// (a call cut short by max_tokens) are sent as `{}`.
    static func toolCalls(name: String, arguments: String) -> String {
        var out = "\"tool_calls\":[{\"function\":{\"name\":"
        JSONText.appendQuoted(name, to: &out)
        out += ",\"arguments\":"
        let isObject =
            (try? JSONSerialization.jsonObject(with: Data(arguments.utf8))).map { $0 is [String: Any] } ?? false
        out += isObject ? arguments : "{}"
        out += "}}]"
        return out
    }

    /// What the last line (or a whole answer) reports.
    struct Final {
        var doneReason: String
        var promptTokens: Int
        var evalCount: Int
        var arrivalNanos: UInt64
        /// When the first token was ready (the end of prompt evaluation); the end when none was.
        var firstTokenNanos: UInt64
        var endNanos: UInt64
    }

    /// The last streamed line: empty content, `done: true` and the counts.
    func final(_ final: Final, to buffer: inout ByteBuffer) {
        buffer.writeString(head)
        buffer.writeString(isChat ? "\"message\":{\"role\":\"assistant\",\"content\":\"\"}," : "\"response\":\"\",")
        buffer.writeString(Self.doneFields(final))
        buffer.writeString("}\n")
    }

    /// A non-streamed answer: one object with the whole text, reasoning and tool call.
    func body(text: String, thinking: String, toolCall: (name: String, arguments: String)?, final: Final) -> String {
        var out = head
        if isChat {
            out += "\"message\":{\"role\":\"assistant\",\"content\":"
            JSONText.appendQuoted(text, to: &out)
            if !thinking.isEmpty {
                out += ",\"thinking\":"
                JSONText.appendQuoted(thinking, to: &out)
            }
            if let toolCall { out += "," + Self.toolCalls(name: toolCall.name, arguments: toolCall.arguments) }
            out += "},"
        } else {
            out += "\"response\":"
            JSONText.appendQuoted(text, to: &out)
            if !thinking.isEmpty {
                out += ",\"thinking\":"
                JSONText.appendQuoted(thinking, to: &out)
            }
            out += ","
        }
        return out + Self.doneFields(final) + "}"
    }

    /// `"done":true,"done_reason":…` and the counts and durations (nanoseconds, measured: total from
    /// arrival to the end, prompt evaluation from arrival to the first token, evaluation from there to the
    /// end; nothing is loaded, so load_duration is 0).
    static func doneFields(_ f: Final) -> String {
        let first = max(f.firstTokenNanos, f.arrivalNanos)
        let end = max(f.endNanos, first)
        var out = "\"done\":true,\"done_reason\":"
        JSONText.appendQuoted(f.doneReason, to: &out)
        out += ",\"total_duration\":\(end - f.arrivalNanos),\"load_duration\":0"
        out += ",\"prompt_eval_count\":\(f.promptTokens),\"prompt_eval_duration\":\(first - f.arrivalNanos)"
        out += ",\"eval_count\":\(f.evalCount),\"eval_duration\":\(end - first)"
        return out
    }

    /// Ollama's `done_reason` for a finish: `length` when max_tokens cut it, else `stop` (a tool call too).
    static func doneReason(_ reason: GenerationFinish.Reason) -> String {
        reason == .length ? "length" : "stop"
    }

    /// `{"error":"…"}` as a streamed line.
    static func error(_ message: String) -> ByteBuffer {
        var out = "{\"error\":"
        JSONText.appendQuoted(message, to: &out)
        out += "}\n"
        return ByteBuffer(string: out)
    }
}
