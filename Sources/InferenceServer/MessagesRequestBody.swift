/// The JSON body of `POST /v1/messages`, Anthropic's Messages API
/// (https://docs.anthropic.com/en/api/messages), as sent; `MessagesParameters` validates it.
/// Fields the server has no use for (`metadata`, `top_k`, a tool's `input_schema`, …) are accepted and ignored.
struct MessagesRequestBody: Decodable, Sendable {
    var model: String
    var maxTokens: Int
    var messages: [Message]
    var system: Content?
    var stream: Bool?
    var temperature: Double?
    var topP: Double?
    var stopSequences: [String]?
    var thinking: Thinking?
    var tools: [Tool]?
    var toolChoice: ToolChoice?

    struct Message: Decodable, Sendable {
        var role: String
        var content: Content
    }

    /// A string, or content blocks of which the `text` ones carry the prompt.
    typealias Content = TextContent

    /// `{"type":"enabled","budget_tokens":N}` or `{"type":"disabled"}`.
    struct Thinking: Decodable, Sendable {
        var type: String
        var budgetTokens: Int?

        private enum CodingKeys: String, CodingKey {
            case type
            case budgetTokens = "budget_tokens"
        }
    }

    struct Tool: Decodable, Sendable {
        var name: String
    }

    /// `{"type":"auto"|"any"|"none"}` or `{"type":"tool","name":…}`.
    struct ToolChoice: Decodable, Sendable {
        var type: String
        var name: String?
    }

    private enum CodingKeys: String, CodingKey {
        case model
        case maxTokens = "max_tokens"
        case messages, system, stream, temperature
        case topP = "top_p"
        case stopSequences = "stop_sequences"
        case thinking, tools
        case toolChoice = "tool_choice"
    }
}

/// A validated Messages request: the chat prompt path's `CompletionParameters` (system and messages become
/// the chat template's conversation) and what only this API has.
struct MessagesParameters: Sendable {
    var completion: CompletionParameters
    /// `thinking.budget_tokens` when thinking is enabled (the synthetic engine's `--reasoning-tokens`
    /// decides how much it reasons; the budget is checked as Anthropic checks it).
    var thinkingBudget: Int?

    static let roles: Set<String> = ["user", "assistant"]
    static let toolChoiceTypes: Set<String> = ["auto", "any", "tool", "none"]
    /// Anthropic's smallest thinking budget.
    static let minimumThinkingBudget = 1024

    init(_ body: MessagesRequestBody) throws(APIError) {
        guard body.maxTokens >= 1 else {
            throw .invalidRequest(
                "max_tokens: must be greater than or equal to 1, got \(body.maxTokens).", param: "max_tokens")
        }
        guard !body.messages.isEmpty else {
            throw .invalidRequest("messages: at least one message is required.", param: "messages")
        }
        var conversation: [ChatMessage] = []
        conversation.reserveCapacity(body.messages.count + 1)
        if let system = body.system {
            conversation.append(ChatMessage(role: "system", content: system.flattened(textTypes: ["text"])))
        }
        for (index, message) in body.messages.enumerated() {
            guard Self.roles.contains(message.role) else {
                throw .invalidRequest(
                    "messages.\(index).role: unexpected role '\(message.role)'; messages take 'user' or 'assistant' "
                        + "(a system prompt goes in the top-level 'system' field).",
                    param: "messages[\(index)].role")
            }
            conversation.append(
                ChatMessage(role: message.role, content: message.content.flattened(textTypes: ["text"])))
        }
        if let temperature = body.temperature, !(0...1).contains(temperature) {
            throw .invalidRequest(
                "temperature: must be between 0 and 1, got \(temperature).", param: "temperature")
        }
        if let topP = body.topP, !(0...1).contains(topP) {
            throw .invalidRequest("top_p: must be between 0 and 1, got \(topP).", param: "top_p")
        }
        thinkingBudget = nil
        if let thinking = body.thinking {
            switch thinking.type {
            case "enabled":
                guard let budget = thinking.budgetTokens else {
                    throw .invalidRequest(
                        "thinking.budget_tokens: required when thinking is enabled.", param: "thinking.budget_tokens")
                }
                guard budget >= Self.minimumThinkingBudget, budget < body.maxTokens else {
                    throw .invalidRequest(
                        "thinking.budget_tokens: must be at least \(Self.minimumThinkingBudget) and less than "
                            + "max_tokens (\(body.maxTokens)), got \(budget).", param: "thinking.budget_tokens")
                }
                thinkingBudget = budget
            case "disabled":
                break
            default:
                throw .invalidRequest(
                    "thinking.type: expected 'enabled' or 'disabled', got '\(thinking.type)'.", param: "thinking.type")
            }
        }
        if let choice = body.toolChoice {
            guard Self.toolChoiceTypes.contains(choice.type) else {
                throw .invalidRequest(
                    "tool_choice.type: expected one of any, auto, none, tool, got '\(choice.type)'.",
                    param: "tool_choice.type")
            }
            if choice.type == "tool" {
                guard let name = choice.name, (body.tools ?? []).contains(where: { $0.name == name }) else {
                    throw .invalidRequest(
                        "tool_choice.name: must name one of the request's tools.", param: "tool_choice.name")
                }
            }
        }
        completion = CompletionParameters(
            messagesModel: body.model, conversation: conversation, maxTokens: body.maxTokens,
            stream: body.stream ?? false, temperature: body.temperature, topP: body.topP,
            stop: (body.stopSequences ?? []).filter { !$0.isEmpty })
    }
}
