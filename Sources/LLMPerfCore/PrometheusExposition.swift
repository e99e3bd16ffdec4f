import Foundation

/// The Prometheus text exposition format, version 0.0.4 (what vLLM, SGLang, TGI, llama.cpp's
/// llama-server and `llmperf serve` answer on `/metrics`), read into metric families.
///
/// What it reads:
/// - `# HELP name text` (`\\` and `\n` unescaped) and `# TYPE name counter|gauge|histogram|summary|untyped`
///   (`unknown`, OpenMetrics' spelling of untyped, too); a name gets one of each, and its TYPE
///   before its samples. Other `#` lines are comments; OpenMetrics' `# EOF` ends the text (only
///   blank lines may follow).
/// - Samples `name{label="value",...} value [timestamp]`: blanks (spaces, tabs) between tokens and
///   around the braces, `=` and commas; a trailing comma in the label set; label values with `\\`,
///   `\"` and `\n` escapes (another backslash pair is kept as written, as Prometheus's own scraper
///   keeps it); a label name at most once per sample; values as Go's ParseFloat reads them
///   (`1`, `-2.5e-3`, `+Inf`, `-Inf`, `NaN`); an optional integer timestamp in milliseconds, parsed
///   and checked, then dropped (`MetricSample` has no place for it). Lines may end in `\r\n`.
/// - Which family a sample belongs to: the family its own name declares; else `x_bucket`, `x_sum`,
///   `x_count` (and `x_created`) go to a declared histogram `x` (a summary takes all but `_bucket`),
///   `x_total` and `x_created` to a declared counter `x` (OpenMetrics' spelling; a counter declared as
///   `x_total` takes `x_total` by its own name); anything else to an untyped family of its own name.
///   A histogram's bucket needs a numeric `le` label and a summary's quantile a numeric `quantile`.
///
/// Families come in the order they first appear. It never traps, and it is one linear pass over
/// the UTF-8 bytes (see `PrometheusScanner`): a 300 KB vLLM exposition parses in a few milliseconds.
public enum PrometheusExposition {
    public static func parse(_ text: String) throws -> [MetricFamily] {
        var text = text
        return try text.withUTF8 { bytes in
            var parser = ExpositionParser(scanner: PrometheusScanner(bytes: bytes))
            try parser.run()
            return parser.families.map(\.family)
        }
    }

    /// The labels of a label set written alone, `{a="1",b="2"}`, or of nothing (no labels): what
    /// `MetricSample.labelText` writes.
    static func labels(ofLabelSet text: String) throws -> [MetricLabel] {
        var text = text
        return try text.withUTF8 { bytes in
            var parser = ExpositionParser(scanner: PrometheusScanner(bytes: bytes))
            return try parser.standaloneLabelSet()
        }
    }
}

/// The parse of one exposition: lines in, families out.
private struct ExpositionParser {
    var scanner: PrometheusScanner

    struct Entry {
        var family: MetricFamily
        var typeDeclared = false
        var helpDeclared = false
    }

    /// How a sample's name relates to its family, for the checks histograms and summaries need.
    enum Role {
        case plain
        case bucket
        case quantile
        case bareHistogram
    }

    var families: [Entry] = []
    var familyByName: [String: Int] = [:]
    var sawEOF = false

    /// The last sample's name (its bytes, its text, its family and role): consecutive samples of
    /// a family mostly share a name, and then they share the String and the lookup.
    var lastName: (bytes: Range<Int>, text: String, family: Int, role: Role)?
    /// The last sample's labels, raw and parsed: a histogram's buckets repeat every label but `le`,
    /// and a repeated label reuses the last one's Strings.
    var lastLabels: [(name: Range<Int>, value: Range<Int>, label: MetricLabel)] = []

    init(scanner: PrometheusScanner) {
        self.scanner = scanner
    }

    mutating func run() throws {
        while !scanner.isAtEnd {
            scanner.skipBlanks()
            if scanner.isAtLineEnd {
                scanner.finishLine()
                continue
            }
            if sawEOF {
                throw scanner.error("unexpected content after '# EOF'", at: scanner.position)
            }
            if scanner.current == 0x23 {
                try comment()
            } else {
                try sample()
            }
            scanner.finishLine()
        }
    }

    // MARK: Comments

    mutating func comment() throws {
        scanner.advance()
        scanner.skipBlanks()
        let keyword = scanner.token()
        let isHelp = scanner.same(keyword, "HELP")
        let isType = scanner.same(keyword, "TYPE")
        if scanner.same(keyword, "EOF") {
            scanner.skipBlanks()
            if scanner.isAtLineEnd {
                sawEOF = true
                return
            }
        }
        guard isHelp || isType else {
            scanner.skipRestOfLine()
            return
        }
        scanner.skipBlanks()
        // `# HELP` or `# TYPE` with nothing after it is a comment, as the Prometheus parser reads it.
        if scanner.isAtLineEnd { return }
        let kind = isHelp ? "HELP" : "TYPE"
        guard let nameRange = scanner.metricName() else {
            throw scanner.error(
                "expected a metric name after '# \(kind)', found \(scanner.found(at: scanner.position))",
                at: scanner.position)
        }
        if let next = scanner.current, !scanner.isAtLineEnd, next != PrometheusScanner.space,
            next != PrometheusScanner.tab
        {
            throw scanner.error(
                "unexpected character \(scanner.found(at: scanner.position)) after metric name "
                    + "\(scanner.quoted(nameRange)) in a \(kind) line", at: scanner.position)
        }
        lastName = nil
        let name = scanner.text(nameRange)
        scanner.skipBlanks()
        if isHelp {
            let textStart = scanner.position
            scanner.skipRestOfLine()
            try declareHelp(name, scanner.unescaped(textStart..<scanner.position, quotes: false), at: nameRange)
        } else {
            try declareType(name, at: nameRange)
        }
    }

    mutating func declareHelp(_ name: String, _ help: String, at nameRange: Range<Int>) throws {
        if let index = familyByName[name] {
            guard !families[index].helpDeclared else {
                throw scanner.error("second HELP line for \(scanner.quoted(nameRange))", at: nameRange.lowerBound)
            }
            families[index].helpDeclared = true
            families[index].family.help = help
        } else {
            familyByName[name] = families.count
            families.append(Entry(family: MetricFamily(name: name, type: .untyped, help: help), helpDeclared: true))
        }
    }

    mutating func declareType(_ name: String, at nameRange: Range<Int>) throws {
        if scanner.isAtLineEnd {
            throw scanner.error(
                "expected a metric type after \(scanner.quoted(nameRange)), found end of line", at: scanner.position)
        }
        let typeRange = scanner.token()
        guard let type = metricType(typeRange) else {
            throw scanner.error(
                "unknown metric type \(scanner.quoted(typeRange)) for \(scanner.quoted(nameRange)) "
                    + "(expected counter, gauge, histogram, summary or untyped)", at: typeRange.lowerBound)
        }
        scanner.skipBlanks()
        guard scanner.isAtLineEnd else {
            let extra = scanner.token()
            throw scanner.error(
                "unexpected text after the type of \(scanner.quoted(nameRange)): \(scanner.quoted(extra))",
                at: extra.lowerBound)
        }
        if let index = familyByName[name] {
            guard !families[index].typeDeclared else {
                throw scanner.error("second TYPE line for \(scanner.quoted(nameRange))", at: nameRange.lowerBound)
            }
            guard families[index].family.samples.isEmpty else {
                throw scanner.error(
                    "TYPE line for \(scanner.quoted(nameRange)) comes after its samples", at: nameRange.lowerBound)
            }
            families[index].typeDeclared = true
            families[index].family.type = type
        } else {
            familyByName[name] = families.count
            families.append(Entry(family: MetricFamily(name: name, type: type), typeDeclared: true))
        }
    }

    func metricType(_ range: Range<Int>) -> MetricType? {
        let bytes = scanner.bytes
        for type in MetricType.allCases where PrometheusScanner.matches(bytes, range, caseInsensitive: type.keyword) {
            return type
        }
        return PrometheusScanner.matches(bytes, range, caseInsensitive: "unknown") ? .untyped : nil
    }

    mutating func standaloneLabelSet() throws -> [MetricLabel] {
        if scanner.isAtEnd { return [] }
        guard scanner.current == 0x7B else {
            throw scanner.error("expected '{', found \(scanner.found(at: scanner.position))", at: scanner.position)
        }
        let labels = try labelSet()
        guard scanner.isAtEnd else {
            throw scanner.error(
                "unexpected text after the label set: \(scanner.found(at: scanner.position))", at: scanner.position)
        }
        return labels
    }

    // MARK: Samples

    mutating func sample() throws {
        let start = scanner.position
        guard let nameRange = scanner.metricName() else {
            throw scanner.error(
                "expected a metric name or '#', found \(scanner.found(at: start))", at: start)
        }
        if let next = scanner.current, !scanner.isAtLineEnd, next != PrometheusScanner.space,
            next != PrometheusScanner.tab, next != 0x7B
        {
            throw scanner.error(
                "unexpected character \(scanner.found(at: scanner.position)) after metric name "
                    + scanner.quoted(nameRange), at: scanner.position)
        }
        scanner.skipBlanks()
        var labels: [MetricLabel] = []
        if scanner.current == 0x7B {
            labels = try labelSet()
        }
        scanner.skipBlanks()
        if scanner.isAtLineEnd {
            throw scanner.error(
                "expected a value for \(scanner.quoted(nameRange)), found end of line", at: scanner.position)
        }
        let valueRange = scanner.token()
        guard let value = PrometheusScanner.number(scanner.bytes, valueRange) else {
            throw scanner.error(
                "invalid value \(scanner.quoted(valueRange)) for \(scanner.quoted(nameRange))",
                at: valueRange.lowerBound)
        }
        scanner.skipBlanks()
        if !scanner.isAtLineEnd {
            let timestampRange = scanner.token()
            switch PrometheusScanner.timestamp(scanner.bytes, timestampRange) {
            case .value: break
            case .notAnInteger:
                throw scanner.error(
                    "invalid timestamp \(scanner.quoted(timestampRange)) for \(scanner.quoted(nameRange)): "
                        + "expected an integer (milliseconds)", at: timestampRange.lowerBound)
            case .outOfRange:
                throw scanner.error(
                    "timestamp \(scanner.quoted(timestampRange)) for \(scanner.quoted(nameRange)) is out of range",
                    at: timestampRange.lowerBound)
            }
            scanner.skipBlanks()
            if !scanner.isAtLineEnd {
                let extra = scanner.token()
                throw scanner.error(
                    "unexpected text after the timestamp of \(scanner.quoted(nameRange)): \(scanner.quoted(extra))",
                    at: extra.lowerBound)
            }
        }
        let (name, index, role) = try family(ofSample: nameRange)
        try check(role, of: name, labels: labels, at: start)
        families[index].family.samples.append(MetricSample(name: name, labels: labels, value: value))
    }

    /// The label set, the cursor on its `{`.
    mutating func labelSet() throws -> [MetricLabel] {
        scanner.advance()
        var labels: [MetricLabel] = []
        var raw: [(name: Range<Int>, value: Range<Int>, label: MetricLabel)] = []
        var names: Set<String> = []
        while true {
            scanner.skipBlanks()
            if scanner.current == 0x7D {
                scanner.advance()
                break
            }
            guard let nameRange = scanner.labelName() else {
                throw scanner.error(
                    "expected a label name or '}', found \(scanner.found(at: scanner.position))", at: scanner.position)
            }
            scanner.skipBlanks()
            guard scanner.current == 0x3D, !scanner.isAtLineEnd else {
                throw scanner.error(
                    "expected '=' after label name \(scanner.quoted(nameRange)), "
                        + "found \(scanner.found(at: scanner.position))", at: scanner.position)
            }
            scanner.advance()
            scanner.skipBlanks()
            guard scanner.current == PrometheusScanner.quote, !scanner.isAtLineEnd else {
                throw scanner.error(
                    "expected '\"' to open the value of label \(scanner.quoted(nameRange)), "
                        + "found \(scanner.found(at: scanner.position))", at: scanner.position)
            }
            let valueStart = scanner.position
            let label: MetricLabel
            let valueRange: Range<Int>
            // The same label as the last sample's in this place: reuse its Strings.
            if raw.count < lastLabels.count, scanner.same(lastLabels[raw.count].name, nameRange),
                let end = closingQuote(after: valueStart),
                scanner.same(lastLabels[raw.count].value, valueStart + 1..<end)
            {
                label = lastLabels[raw.count].label
                valueRange = valueStart + 1..<end
                while scanner.position <= end { scanner.advance() }
            } else {
                let (value, range) = try scanner.quotedLabelValue(of: nameRange)
                label = MetricLabel(scanner.text(nameRange), value)
                valueRange = range
            }
            // A name at most once: compared in place while the set is small, hashed beyond that,
            // so a line of thousands of labels stays linear.
            let duplicate: Bool
            if raw.count < 16 {
                duplicate = raw.contains { scanner.same($0.name, nameRange) }
            } else {
                if names.isEmpty { names = Set(raw.map(\.label.name)) }
                duplicate = !names.insert(label.name).inserted
            }
            if duplicate {
                throw scanner.error("duplicate label name \(scanner.quoted(nameRange))", at: nameRange.lowerBound)
            }
            labels.append(label)
            raw.append((nameRange, valueRange, label))
            scanner.skipBlanks()
            if scanner.current == 0x2C, !scanner.isAtLineEnd {
                scanner.advance()
                continue
            }
            if scanner.current == 0x7D {
                scanner.advance()
                break
            }
            throw scanner.error(
                "expected ',' or '}' after the value of label \(scanner.quoted(nameRange)), "
                    + "found \(scanner.found(at: scanner.position))", at: scanner.position)
        }
        lastLabels = raw
        return labels
    }

    /// The offset of the quote that closes a label value opened at `open`, when the value has no
    /// backslash and closes on this line; nil otherwise (the full reader then handles it).
    func closingQuote(after open: Int) -> Int? {
        var offset = open + 1
        while !scanner.isLineEnd(offset) {
            let byte = scanner.bytes[offset]
            if byte == PrometheusScanner.quote { return offset }
            if byte == PrometheusScanner.backslash { return nil }
            offset += 1
        }
        return nil
    }

    /// The family a sample of this name belongs to (see `PrometheusExposition`), created when
    /// none claims it.
    mutating func family(ofSample nameRange: Range<Int>) throws -> (String, Int, Role) {
        if let last = lastName, scanner.same(last.bytes, nameRange) {
            return (last.text, last.family, last.role)
        }
        let name = scanner.text(nameRange)
        let (index, role) = resolve(name)
        lastName = (nameRange, name, index, role)
        return (name, index, role)
    }

    mutating func resolve(_ name: String) -> (Int, Role) {
        if let index = familyByName[name], families[index].typeDeclared {
            switch families[index].family.type {
            case .histogram: return (index, .bareHistogram)
            case .summary: return (index, .quantile)
            default: return (index, .plain)
            }
        }
        let suffixes: [(suffix: String, types: [MetricType])] = [
            ("_bucket", [.histogram]), ("_sum", [.histogram, .summary]), ("_count", [.histogram, .summary]),
            ("_created", [.histogram, .summary, .counter]), ("_total", [.counter]),
        ]
        for (suffix, types) in suffixes where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if let index = familyByName[base], families[index].typeDeclared,
                types.contains(families[index].family.type)
            {
                return (index, suffix == "_bucket" ? .bucket : .plain)
            }
        }
        if let index = familyByName[name] { return (index, .plain) }
        familyByName[name] = families.count
        families.append(Entry(family: MetricFamily(name: name, type: .untyped)))
        return (families.count - 1, .plain)
    }

    /// A histogram's bucket needs a numeric `le`, a summary's quantile a numeric `quantile`, and a
    /// histogram has no sample without a suffix.
    func check(_ role: Role, of name: String, labels: [MetricLabel], at start: Int) throws {
        switch role {
        case .plain:
            return
        case .bareHistogram:
            throw scanner.error(
                "sample '\(name)' of histogram '\(name)' needs a _bucket, _sum or _count suffix", at: start)
        case .bucket, .quantile:
            let labelName = role == .bucket ? "le" : "quantile"
            let kind = role == .bucket ? "histogram bucket" : "summary quantile"
            guard let value = labels.first(where: { $0.name == labelName })?.value else {
                throw scanner.error("\(kind) '\(name)' has no '\(labelName)' label", at: start)
            }
            guard PrometheusScanner.number(value) != nil else {
                throw scanner.error("invalid '\(labelName)' value '\(value)' in \(kind) '\(name)'", at: start)
            }
        }
    }
}

extension PrometheusScanner {
    /// Whether `range` holds exactly `word`.
    fileprivate func same(_ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        let letters = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        return zip(range, letters).allSatisfy { bytes[$0] == $1 }
    }
}

extension MetricType {
    fileprivate var keyword: StaticString {
        switch self {
        case .counter: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        case .summary: "summary"
        case .untyped: "untyped"
        }
    }
}
