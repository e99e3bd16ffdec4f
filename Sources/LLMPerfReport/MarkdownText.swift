/// Text placed in GitHub-flavored Markdown: punctuation that Markdown or inline HTML would
/// interpret is backslash-escaped, and line breaks become spaces (a table row is one line).
enum MarkdownText {
    private static let special: Set<Character> = [
        "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "~", "&",
    ]

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            if character == "\n" || character == "\r" || character == "\r\n" {
                out.append(" ")
            } else if special.contains(character) {
                out.append("\\")
                out.append(character)
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// A table cell: like `escape`, minus `~` (the "no change" verdict reads as itself).
    static func cell(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|": out += "\\|"
            case "\\", "`", "*", "_", "[", "]", "<", ">", "#", "&":
                out.append("\\")
                out.append(character)
            case "\n", "\r", "\r\n": out.append(" ")
            default: out.append(character)
            }
        }
        return out
    }

    /// A pipe table; `rightAligned[i]` right-aligns column i.
    static func table(headers: [String], rightAligned: [Bool], rows: [[String]]) -> String {
        var out = "| " + headers.map(cell).joined(separator: " | ") + " |\n"
        out += "|" + rightAligned.map { $0 ? " ---: |" : " --- |" }.joined() + "\n"
        for row in rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }
}
