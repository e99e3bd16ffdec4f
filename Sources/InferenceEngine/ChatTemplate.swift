import LLMTokenizer

/// The chat formats this engine renders, recognised from `tokenizer.chat_template`. Templates are not executed; the
/// format is detected from marker tokens and rendered natively. Anything unrecognised falls back to ChatML and sets
/// `warning`.
///
/// Rendering never writes the BOS token: encode the result with `addSpecial: true` so the tokenizer adds it when
/// the model wants one.
public struct ChatTemplate: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable {
        case chatML
        case llama2
        case llama3
    }

    public let format: Format
    /// ChatML templates (SmolLM2) may insert a system message when the conversation has none.
    public let defaultSystemPrompt: String?
    /// Why the fallback was used, when it was.
    public let warning: String?

    public init(format: Format, defaultSystemPrompt: String? = nil, warning: String? = nil) {
        self.format = format
        self.defaultSystemPrompt = defaultSystemPrompt
        self.warning = warning
    }

    /// Detects the format of a Jinja chat template.
    public init(template: String?) {
        guard let template, !template.isEmpty else {
            self.init(format: .chatML, warning: "the model has no chat template: using ChatML")
            return
        }
        if template.contains("<|start_header_id|>") {
            self.init(format: .llama3)
        } else if template.contains("[INST]") {
            self.init(format: .llama2)
        } else if template.contains("<|im_start|>") {
            self.init(format: .chatML, defaultSystemPrompt: Self.defaultSystem(in: template))
        } else {
            self.init(format: .chatML, warning: "unrecognised chat template: using ChatML")
        }
    }

    init(file: GGUFFile) {
        self.init(template: file.metadata["tokenizer.chat_template"]?.stringValue)
    }

    /// Renders a conversation. With `addGenerationPrompt`, ends with the header of an assistant turn.
    public func render(messages: [(role: String, content: String)], addGenerationPrompt: Bool) -> String {
        var out = ""
        switch format {
        case .chatML:
            if let system = defaultSystemPrompt, messages.first?.role != "system" {
                out += "<|im_start|>system\n\(system)<|im_end|>\n"
            }
            for m in messages { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .llama3:
            for m in messages {
                out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(m.content.trimmingWhitespace())<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case .llama2:
            var system: String?
            var first = true
            for m in messages {
                switch m.role {
                case "system":
                    system = m.content
                case "assistant":
                    out += " \(m.content.trimmingWhitespace()) </s>"
                default:
                    var content = m.content.trimmingWhitespace()
                    if let s = system {
                        content = "<<SYS>>\n\(s)\n<</SYS>>\n\n" + content
                        system = nil
                    }
                    out += (first ? "" : "<s>") + "[INST] \(content) [/INST]"
                    first = false
                }
            }
        }
        return out
    }

    private static func defaultSystem(in template: String) -> String? {
        for marker in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            guard let start = template.range(of: marker) else { continue }
            let rest = template[start.upperBound...]
            guard let end = rest.range(of: "<|im_end|>") else { continue }
            let text = String(rest[..<end.lowerBound])
            if !text.contains("{{") && !text.contains("{%") && !text.contains("'") { return text }
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
