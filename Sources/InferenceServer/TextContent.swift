/// A message's content as the Messages and Responses APIs send it: a string, or typed parts of which some
/// carry text (`text` blocks; `input_text`/`output_text` parts). Other parts (images, tool results, …) are
/// accepted and add no text.
enum TextContent: Decodable, Sendable {
    case text(String)
    case parts([Part])

    struct Part: Decodable, Sendable {
        var type: String
        var text: String?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .parts(try container.decode([Part].self))
        }
    }

    /// The text: the string, or the text of the parts whose type is one of `textTypes`, one per line.
    func flattened(textTypes: Set<String>) -> String {
        switch self {
        case .text(let text): return text
        case .parts(let parts):
            return parts.compactMap { textTypes.contains($0.type) ? $0.text : nil }.joined(separator: "\n")
        }
    }
}
