import Foundation
import NIOCore

/// Renders llama.cpp's `/completion` and TGI's `/generate_stream` / `/generate` answers.
///
/// llama.cpp (llama-server's README, "POST /completion"): one SSE `data:` event per token
/// `{"index":0,"content":…,"tokens":[],"stop":false,"id_slot":-1,"tokens_predicted":k,"tokens_evaluated":P}`,
/// then one last event with `"stop":true`, empty content, the counts, `stop_type` (`limit` or `eos`) and
/// `timings`; no `[DONE]`. Not streamed, the last event's object with the whole text as `content`.
///
/// TGI (its OpenAPI, StreamResponse): one event per token
/// `{"index":k,"token":{"id":k,"text":…,"logprob":0.0,"special":false},"generated_text":null,"details":null}`;
/// the last token's event also carries `generated_text` and `details` (`finish_reason` `length` or
/// `eos_token`, `generated_tokens`, `input_length`, `seed`). Token ids here are positions (1, 2, …), not
/// vocabulary ids. Not streamed, `{"generated_text":…,"details":{…}}`.
struct NativeEvents: Sendable {
    let dialect: ResponseDialect
    let model: String
    let promptTokens: Int
    /// TGI: whether the request asked for `details`.
    let details: Bool
    let seed: UInt64?

    /// llama.cpp: one token's event.
    func llamaToken(_ text: String, predicted: Int, to buffer: inout ByteBuffer) {
        buffer.writeStaticString("data: {\"index\":0,\"content\":\"")
        JSONText.writeEscaped(text, to: &buffer)
        buffer.writeString(
            "\",\"tokens\":[],\"stop\":false,\"id_slot\":-1,\"tokens_predicted\":\(predicted),"
                + "\"tokens_evaluated\":\(promptTokens)}\n\n")
    }

    /// llama.cpp: the final object (`content` is the whole text when not streamed, empty when streamed), its
    /// `timings` the request's phases (`ServerPhases.timingsJSON`).
    func llamaFinal(content: String, predicted: Int, reason: GenerationFinish.Reason, phases: ServerPhases) -> String {
        var out = "{\"index\":0,\"content\":"
        JSONText.appendQuoted(content, to: &out)
        out += ",\"tokens\":[],\"id_slot\":-1,\"stop\":true,\"model\":"
        JSONText.appendQuoted(model, to: &out)
        out += ",\"tokens_predicted\":\(predicted),\"tokens_evaluated\":\(promptTokens)"
        out += ",\"stop_type\":\"\(reason == .length ? "limit" : "eos")\",\"stopping_word\":\"\",\"truncated\":false"
        out += ",\"tokens_cached\":\(promptTokens + predicted),\"timings\":"
        out += phases.timingsJSON(promptTokens: promptTokens, predictedTokens: predicted)
        out += "}"
        return out
    }

    /// TGI: one token's event; `final` adds `generated_text` and (when asked for) `details`.
    func tgiToken(
        _ text: String, index: Int, special: Bool,
        final: (text: String, generated: Int, reason: GenerationFinish.Reason)?,
        to buffer: inout ByteBuffer
    ) {
        buffer.writeString("data: {\"index\":\(index),\"token\":{\"id\":\(index),\"text\":\"")
        JSONText.writeEscaped(text, to: &buffer)
        buffer.writeString("\",\"logprob\":0.0,\"special\":\(special)},\"generated_text\":")
        guard let final else {
            buffer.writeStaticString("null,\"details\":null}\n\n")
            return
        }
        buffer.writeString(JSONText.quoted(final.text))
        buffer.writeStaticString(",\"details\":")
        buffer.writeString(details ? tgiDetails(generated: final.generated, reason: final.reason) : "null")
        buffer.writeStaticString("}\n\n")
    }

    func tgiDetails(generated: Int, reason: GenerationFinish.Reason) -> String {
        "{\"finish_reason\":\"\(reason == .length ? "length" : "eos_token")\",\"generated_tokens\":\(generated),"
            + "\"input_length\":\(promptTokens),\"seed\":\(seed.map(String.init) ?? "null")}"
    }

    /// TGI: the whole answer of `/generate`.
    func tgiBody(text: String, generated: Int, reason: GenerationFinish.Reason) -> String {
        var out = "{\"generated_text\":"
        JSONText.appendQuoted(text, to: &out)
        out += ",\"details\":" + (details ? tgiDetails(generated: generated, reason: reason) : "null") + "}"
        return out
    }

    /// An error event in the dialect's own shape.
    func errorEvent(_ error: APIError) -> ByteBuffer {
        ByteBuffer(string: "data: " + error.body(in: dialect) + "\n\n")
    }
}
