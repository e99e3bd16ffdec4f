/// Escaping for text placed in HTML or XML, in element content or a quoted attribute:
/// `&`, `<`, `>`, `"` and `'` become entities, and control characters that XML 1.0 forbids
/// (and HTML treats as parse errors) become U+FFFD, so any recorded text (prompts, model
/// output, error details, run names) can be embedded safely.
public enum HTMLEscaping {
    public static func escape(_ text: String) -> String {
        var needsWork = false
        for unit in text.utf8
        where unit < 0x20 || unit == 0x26 || unit == 0x3C || unit == 0x3E || unit == 0x22 || unit == 0x27
            || unit == 0x7F
        {
            needsWork = true
            break
        }
        guard needsWork else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
