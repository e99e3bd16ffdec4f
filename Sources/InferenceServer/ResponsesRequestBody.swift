/// The JSON body of `POST /v1/responses`, OpenAI's Responses API (its API reference, "Create a model
/// response"), as sent; `ResponsesParameters` validates it. `input` is a string or a list of messages
/// (`{role, content}` with string content or `input_text`/`output_text` parts); fields the server has no
/// use for (`store`, `metadata`, `text`, `reasoning.summary`, a tool's `parameters`, …) are accepted and
/// ignored.
struct ResponsesRequestBody: Decodable, Sendable {
    var model: String
    var input: Input
    var instructions: String?
    var maxOutputTokens: Int?
    var stream: Bool?
    var temperature: Double?
    var topP: Double?
    var reasoning: Reasoning?
    var tools: [Tool]?
    var toolChoice: ToolChoice?

    enum Input: Decodable, Sendable {
        case text(String)
        case items([Item])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .items(try container.decode([Item].self))
            }
        }
    }

    /// A message of the input (`type` absent or `message`); other item types (`function_call_output`, …)
    /// add no text.
    struct Item: Decodable, Sendable {
        var type: String?
        var role: String?
        var content: Content?
    }

    /// A string, or parts of which the `input_text` and `output_text` ones carry the prompt.
    typealias Content = TextContent

    struct Reasoning: Decodable, Sendable {
        var effort: String?
    }

    struct Tool: Decodable, Sendable {
        var type: String
        var name: String?
    }

    /// `"auto"|"none"|"required"` or `{"type":"function","name":…}`.
    enum ToolChoice: Decodable, Sendable {
        case mode(String)
        case function(type: String, name: String?)

        private enum CodingKeys: String, CodingKey { case type, name }

        init(from decoder: any Decoder) throws {
            if let mode = try? decoder.singleValueContainer().decode(String.self) {
                self = .mode(mode)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self = .function(
                type: try container.decode(String.self, forKey: .type),
                name: try container.decodeIfPresent(String.self, forKey: .name))
        }
    }

    private enum CodingKeys: String, CodingKey {
        case model, input, instructions
        case maxOutputTokens = "max_output_tokens"
        case stream, temperature
        case topP = "top_p"
        case reasoning, tools
        case toolChoice = "tool_choice"
    }
}

/// A validated Responses request: the chat prompt path's `CompletionParameters` (`instructions` and the
/// input messages become the chat template's conversation).
struct ResponsesParameters: Sendable {
    var completion: CompletionParameters

    static let roles: Set<String> = ["system", "developer", "user", "assistant"]
    static let efforts: Set<String> = ["minimal", "low", "medium", "high"]
    static let toolChoiceModes: Set<String> = ["auto", "none", "required"]

    init(_ body: ResponsesRequestBody) throws(APIError) {
        if let max = body.maxOutputTokens, max < 1 {
            throw .invalidRequest(
                "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 1, but got \(max) "
                    + "instead.", param: "max_output_tokens", code: "integer_below_min_value")
        }
        var conversation: [ChatMessage] = []
        if let instructions = body.instructions {
            conversation.append(ChatMessage(role: "system", content: instructions))
        }
        switch body.input {
        case .text(let text):
            conversation.append(ChatMessage(role: "user", content: text))
        case .items(let items):
            for (index, item) in items.enumerated() where item.type == nil || item.type == "message" {
                guard let role = item.role, Self.roles.contains(role) else {
                    throw .invalidRequest(
                        "Invalid value for 'input[\(index)].role': expected one of system, developer, user, "
                            + "assistant, got \(item.role.map { "'\($0)'" } ?? "none").", param: "input[\(index)].role",
                        code: "invalid_value")
                }
                conversation.append(
                    ChatMessage(
                        role: role, content: item.content?.flattened(textTypes: ["input_text", "output_text"]) ?? ""))
            }
        }
        guard conversation.contains(where: { $0.role != "system" && $0.role != "developer" }) else {
            throw .invalidRequest(
                "Invalid 'input': expected text or at least one user or assistant message.", param: "input",
                code: "invalid_value")
        }
        if let temperature = body.temperature, !(0...2).contains(temperature) {
            throw .invalidRequest(
                "Invalid 'temperature': expected a number from 0 to 2, got \(temperature).", param: "temperature",
                code: "invalid_value")
        }
        if let topP = body.topP, !(0...1).contains(topP) {
            throw .invalidRequest(
                "Invalid 'top_p': expected a number from 0 to 1, got \(topP).", param: "top_p", code: "invalid_value")
        }
        if let effort = body.reasoning?.effort, !Self.efforts.contains(effort) {
            throw .invalidRequest(
                "Invalid value for 'reasoning.effort': expected one of minimal, low, medium, high, got '\(effort)'.",
                param: "reasoning.effort", code: "invalid_value")
        }
        let functionNames = (body.tools ?? []).filter { $0.type == "function" }.compactMap(\.name)
        switch body.toolChoice {
        case .mode(let mode) where !Self.toolChoiceModes.contains(mode):
            throw .invalidRequest(
                "Invalid value for 'tool_choice': expected auto, none, required or a function, got '\(mode)'.",
                param: "tool_choice", code: "invalid_value")
        case .function(let type, let name):
            guard type == "function", let name, functionNames.contains(name) else {
                throw .invalidRequest(
                    "Invalid 'tool_choice': it must name one of the request's function tools.", param: "tool_choice",
                    code: "invalid_value")
            }
        default:
            break
        }
        completion = CompletionParameters(
            messagesModel: body.model, conversation: conversation, maxTokens: 1, stream: body.stream ?? false,
            temperature: body.temperature, topP: body.topP, stop: [])
        completion.maxTokens = body.maxOutputTokens
    }
}
