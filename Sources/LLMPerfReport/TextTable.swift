/// A plain-text table with aligned columns, optionally colored per cell with ANSI codes.
/// Width is computed on the visible text, so colored cells line up.
public struct TextTable: Sendable {
    public enum Alignment: Sendable { case left, right }

    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        public var style: TerminalStyle.Style?

        public init(_ text: String, style: TerminalStyle.Style? = nil) {
            self.text = text
            self.style = style
        }

        public init(stringLiteral value: String) { self.init(value) }
    }

    public var headers: [String]
    public var alignments: [Alignment]
    public var rows: [[Cell]] = []

    public init(headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? headers.indices.map { $0 == 0 ? .left : .right }
    }

    public mutating func add(_ cells: [Cell]) { rows.append(cells) }

    public func render(style: TerminalStyle) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], cell.text.count)
            }
        }
        func line(_ cells: [Cell], header: Bool) -> String {
            var parts: [String] = []
            for (i, width) in widths.enumerated() {
                let cell = i < cells.count ? cells[i] : Cell("")
                let pad = String(repeating: " ", count: max(0, width - cell.text.count))
                let aligned = alignments[i] == .left ? cell.text + pad : pad + cell.text
                if header {
                    parts.append(style.apply(.bold, aligned))
                } else if let s = cell.style {
                    parts.append(style.apply(s, aligned))
                } else {
                    parts.append(aligned)
                }
            }
            var text = parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var out = [line(headers.map { Cell($0) }, header: true)]
        out.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
        for row in rows { out.append(line(row, header: false)) }
        return out.joined(separator: "\n") + "\n"
    }
}

/// ANSI styling that turns itself off for `NO_COLOR`, a dumb terminal or a non-TTY.
public struct TerminalStyle: Sendable {
    public enum Style: String, Sendable {
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case yellow = "33"
        case cyan = "36"
    }

    public let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// Colors only when stdout is a terminal and neither `NO_COLOR` nor `TERM=dumb` is set.
    public static func detect(environment: [String: String], isTTY: Bool) -> TerminalStyle {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return TerminalStyle(enabled: false) }
        if environment["TERM"] == "dumb" { return TerminalStyle(enabled: false) }
        return TerminalStyle(enabled: isTTY)
    }

    public func apply(_ style: Style, _ text: String) -> String {
        enabled ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }
}
