import Foundation

/// One conversation of a dataset: its system message, and its user turns each with the length of
/// the answer recorded after it (nil when none was).
public struct DatasetConversation: Sendable, Equatable {
    /// The line the conversation (record, row) starts at.
    public var line: Int
    public var system: String?
    public var turns: [DatasetTurn]

    public init(line: Int, system: String? = nil, turns: [DatasetTurn]) {
        self.line = line
        self.system = system
        self.turns = turns
    }
}

/// A user turn and the recorded answer's length in tokens.
public struct DatasetTurn: Sendable, Equatable {
    public var user: String
    /// The answer's length (`DatasetReader.answerTokens`), or the row's recorded output length;
    /// nil when the dataset records none.
    public var answerTokens: Int?

    public init(user: String, answerTokens: Int? = nil) {
        self.user = user
        self.answerTokens = answerTokens
    }
}

/// Reads a dataset file into conversations, in file order. Structural problems (bad JSON, a record
/// of the wrong shape, a value that is not a string, an unknown role, bad UTF-8, a CSV without the
/// named column) stop the read with a positioned `DatasetError`; conversations that are well-formed
/// but unusable (no messages, no user turn, an empty user turn or prompt) are skipped and counted.
public enum DatasetReader {
    public struct Contents: Sendable, Equatable {
        public var conversations: [DatasetConversation]
        /// Records in the file, skipped ones included.
        public var recordCount: Int
        public var skipped: [DatasetSkip]
        /// SHA-256 (hex) of the file's bytes.
        public var sha256: String
    }

    /// How a recorded answer's length is counted: the one place to swap in a real tokenizer. Until
    /// then, the approximate word rule (`TokenEstimate.words`), at least 1 for a non-empty answer.
    @Sendable public static func answerTokens(_ text: String) -> Int {
        if text.isEmpty { return 0 }
        // `TokenEstimate.words`'s rule over the string's contiguous bytes: iterating `String.UTF8View`
        // took a fifth of the time of loading a 100k-conversation file.
        var text = text
        let words = text.withUTF8 { bytes in
            // A word starts at each non-space byte after a space (or at the start): counted without
            // branches or a carried state, so the loop vectorizes.
            @inline(__always) func space(_ byte: UInt8) -> Int {
                (byte == 0x20 ? 1 : 0) | (byte == 0x0A ? 1 : 0) | (byte == 0x09 ? 1 : 0) | (byte == 0x0D ? 1 : 0)
            }
            var words = 1 - space(bytes[0])
            for index in 1..<bytes.count {
                words &+= space(bytes[index - 1]) & (1 - space(bytes[index]))
            }
            return words
        }
        return max(1, Int((Double(words) / SyntheticPromptGenerator.wordsPerToken).rounded()))
    }

    /// `spec` gives the format and, for CSV, the columns; `countTokens` measures a recorded answer;
    /// `chunkSize` is how much is read at a time (small in the tests, so records span reads).
    public static func read(
        path: String, spec: DatasetSpec, countTokens: @escaping (String) -> Int = DatasetReader.answerTokens,
        chunkSize: Int = DatasetFileStream.chunkSize
    ) -> Result<Contents, DatasetError> {
        var builder = Builder(path: path, spec: spec, countTokens: countTokens)
        do {
            let digest: String
            if spec.format == .csv {
                digest = try readCSV(path: path, chunkSize: chunkSize, into: &builder)
            } else {
                digest = try readJSON(path: path, chunkSize: chunkSize, into: &builder)
            }
            guard builder.recordCount > 0 else {
                return .failure(DatasetError(file: path, message: "contains no conversations"))
            }
            return .success(
                Contents(
                    conversations: builder.conversations, recordCount: builder.recordCount,
                    skipped: builder.skips.list, sha256: digest))
        } catch let error as DatasetError {
            return .failure(error)
        } catch {
            return .failure(DatasetError(file: path, message: "\(error)"))
        }
    }

    /// Where a position is as line and column (1-based; the column in Unicode scalars, when the
    /// line's start is still in the window).
    static func located(
        _ position: DatasetPosition, _ message: String, path: String, window: UnsafeBufferPointer<UInt8>,
        baseOffset: Int
    ) -> DatasetError {
        var column: Int?
        let start = position.lineStart - baseOffset
        let end = position.offset - baseOffset
        if start >= 0, end <= window.count, start <= end {
            var scalars = 0
            for k in start..<end where window[k] & 0xC0 != 0x80 { scalars += 1 }
            column = scalars + 1
        }
        return DatasetError(file: path, line: position.line, column: column, message: message)
    }

    private static func readJSON(path: String, chunkSize: Int, into builder: inout Builder) throws -> String {
        try scan(DatasetJSONScanner.self, path: path, chunkSize: chunkSize) { try builder.add($0) }
    }

    private static func readCSV(path: String, chunkSize: Int, into builder: inout Builder) throws -> String {
        var columns: Builder.CSVColumns?
        return try scan(DatasetCSVScanner.self, path: path, chunkSize: chunkSize) { row in
            if let columns {
                try builder.add(row, columns: columns)
            } else {
                columns = try builder.header(row)
            }
        } atEnd: {
            guard columns != nil else { throw DatasetError(file: path, message: "has no header row") }
        }
    }

    /// The one loop both formats share: each window of the file is scanned item by item; an item the
    /// window ends inside is scanned again, from its start and the scanner's state there, with more bytes;
    /// a syntax error or a record of the wrong shape becomes a positioned `DatasetError`. Returns the
    /// file's SHA-256.
    private static func scan<Scanner: DatasetWindowScanner>(
        _: Scanner.Type, path: String, chunkSize: Int, _ take: (Scanner.Item) throws -> Void,
        atEnd: () throws -> Void = {}
    ) throws -> String {
        var state = Scanner.State()
        var resumeAt = 0
        return try DatasetFileStream.read(path: path, chunkSize: chunkSize) { window, baseOffset, atEOF in
            var scanner = Scanner(window, baseOffset: baseOffset, atEOF: atEOF, state: state)
            scanner.pos = resumeAt - baseOffset
            while true {
                let mark = (pos: scanner.pos, state: scanner.state)
                do {
                    guard let item = try scanner.nextItem() else {
                        try atEnd()
                        return (scanner.pos, true)
                    }
                    try take(item)
                } catch DatasetJSONScanner.Failure.needMore {
                    state = mark.state
                    resumeAt = baseOffset + mark.pos
                    return (max(0, keptFrom(resumeAt: resumeAt, lineStart: mark.state.lineStart) - baseOffset), false)
                } catch DatasetJSONScanner.Failure.syntax(let position, let message) {
                    throw located(position, message, path: path, window: window, baseOffset: baseOffset)
                } catch let failure as RecordFailure {
                    throw located(failure.position, failure.message, path: path, window: window, baseOffset: baseOffset)
                }
            }
        }
    }

    /// Where the window kept for the next read starts: at the line the unfinished record starts on
    /// (so an error in it can name its column), unless that line began long before the record (a
    /// file on one line), then at the record.
    private static func keptFrom(resumeAt: Int, lineStart: Int) -> Int {
        resumeAt - lineStart <= 1 << 16 ? min(resumeAt, lineStart) : resumeAt
    }

    /// A record of the wrong shape, before its position is turned into a line and column.
    struct RecordFailure: Error {
        var position: DatasetPosition
        var message: String
    }

    /// Skips counted by reason, in the order the reasons were first met.
    struct SkipTally {
        var list: [DatasetSkip] = []

        mutating func add(_ reason: String, line: Int) {
            if let index = list.firstIndex(where: { $0.reason == reason }) {
                list[index].count += 1
            } else {
                list.append(DatasetSkip(reason: reason, count: 1, firstLine: line))
            }
        }
    }

    /// Turns records into conversations.
    struct Builder {
        var path: String
        var spec: DatasetSpec
        var countTokens: (String) -> Int
        var conversations: [DatasetConversation] = []
        var recordCount = 0
        var skips = SkipTally()

        enum Role {
            case system
            case user
            case assistant
        }

        static let shareGPTRoles: [(String, Role)] = [
            ("human", .user), ("user", .user), ("gpt", .assistant), ("assistant", .assistant),
            ("chatgpt", .assistant), ("system", .system),
        ]
        static let openAIRoles: [(String, Role)] = [
            ("system", .system), ("developer", .system), ("user", .user), ("assistant", .assistant),
        ]

        mutating func add(_ record: DatasetJSON) throws(RecordFailure) {
            recordCount += 1
            switch spec.format {
            case .sharegpt:
                try addConversation(
                    record, listKey: "conversations", roleKey: "from", textKey: "value", roles: Self.shareGPTRoles)
            case .openAIChat:
                try addConversation(
                    record, listKey: "messages", roleKey: "role", textKey: "content", roles: Self.openAIRoles)
            case .jsonl:
                try addPromptRecord(record)
            case .csv:
                break
            }
        }

        private func fail(_ value: DatasetJSON, _ message: String) -> RecordFailure {
            RecordFailure(position: value.position, message: message)
        }

        private mutating func addConversation(
            _ record: DatasetJSON, listKey: String, roleKey: String, textKey: String, roles: [(String, Role)]
        ) throws(RecordFailure) {
            let shape = "an object with \"\(listKey)\""
            guard case .object(let members, _) = record else {
                throw fail(record, "expected \(shape), got \(record.kindDescription)")
            }
            guard let list = record[listKey] else {
                let keys = members.map { "\"\($0.key)\"" }.joined(separator: ", ")
                throw fail(record, "expected \(shape), got an object with " + (keys.isEmpty ? "no keys" : keys))
            }
            let item = "{\"\(roleKey)\": …, \"\(textKey)\": …}"
            guard case .array(let messages, _) = list else {
                throw fail(list, "\"\(listKey)\": expected an array of \(item) objects, got \(list.kindDescription)")
            }
            let line = record.position.line
            guard !messages.isEmpty else { return skips.add("empty conversations", line: line) }
            var system: String?
            var turns: [DatasetTurn] = []
            var answer: Int?
            var emptyUser = false
            let known = roles.map(\.0).joined(separator: ", ")
            for message in messages {
                guard case .object = message else {
                    throw fail(message, "expected a message \(item), got \(message.kindDescription)")
                }
                guard let roleValue = message[roleKey] else {
                    throw fail(message, "expected a message \(item), missing \"\(roleKey)\"")
                }
                guard case .string(let roleName, _) = roleValue else {
                    throw fail(
                        roleValue, "\"\(roleKey)\": expected a string (\(known)), got \(roleValue.kindDescription)")
                }
                guard let role = roles.first(where: { $0.0 == roleName })?.1 else {
                    throw fail(roleValue, "unknown \(roleKey) \"\(roleName)\"; expected one of \(known)")
                }
                guard let textValue = message[textKey] else {
                    throw fail(message, "expected a message \(item), missing \"\(textKey)\"")
                }
                guard case .string(let text, _) = textValue else {
                    throw fail(textValue, "\"\(textKey)\": expected a string, got \(textValue.kindDescription)")
                }
                switch role {
                case .system:
                    guard turns.isEmpty else {
                        throw fail(message, "a system message after the first user turn; only a leading one is kept")
                    }
                    system = system.map { $0 + "\n" + text } ?? text
                case .user:
                    if let last = turns.indices.last { turns[last].answerTokens = answer }
                    answer = nil
                    if text.isEmpty { emptyUser = true }
                    turns.append(DatasetTurn(user: text))
                case .assistant:
                    // An answer before any user turn (a greeting) belongs to no turn.
                    guard !turns.isEmpty else { continue }
                    let tokens = countTokens(text)
                    if tokens > 0 { answer = (answer ?? 0) + tokens }
                }
            }
            if let last = turns.indices.last { turns[last].answerTokens = answer }
            guard !turns.isEmpty else { return skips.add("conversations without a user turn", line: line) }
            guard !emptyUser else { return skips.add("conversations with an empty user turn", line: line) }
            conversations.append(DatasetConversation(line: line, system: system, turns: turns))
        }

        private mutating func addPromptRecord(_ record: DatasetJSON) throws(RecordFailure) {
            let shape = "an object with \"prompt\" (and optional \"system\", \"max_tokens\")"
            guard case .object = record else { throw fail(record, "expected \(shape), got \(record.kindDescription)") }
            guard let promptValue = record["prompt"] else {
                throw fail(record, "expected \(shape), missing \"prompt\"")
            }
            guard case .string(let prompt, _) = promptValue else {
                throw fail(promptValue, "\"prompt\": expected a string, got \(promptValue.kindDescription)")
            }
            var system: String?
            if let systemValue = record["system"] {
                guard case .string(let text, _) = systemValue else {
                    throw fail(systemValue, "\"system\": expected a string, got \(systemValue.kindDescription)")
                }
                system = text
            }
            var length: Int?
            for key in ["max_tokens", "output_tokens"] {
                guard let value = record[key] else { continue }
                guard case .number(let text, _) = value, let count = Int(text), count >= 1 else {
                    throw fail(value, "\"\(key)\": expected a whole number ≥ 1, got \(value.kindDescription)")
                }
                length = count
            }
            let line = record.position.line
            guard !prompt.isEmpty else { return skips.add("empty prompts", line: line) }
            conversations.append(
                DatasetConversation(
                    line: line, system: system, turns: [DatasetTurn(user: prompt, answerTokens: length)]))
        }

        /// The CSV columns a row is read by.
        struct CSVColumns {
            var count: Int
            var prompt: Int
            var output: Int?
            var system: Int?
        }

        func header(_ row: DatasetCSVScanner.Row) throws(RecordFailure) -> CSVColumns {
            let names = row.fields.map(\.text)
            let listed = names.map { "\"\($0)\"" }.joined(separator: ", ")
            let at = row.fields[0].position
            func index(_ name: String) -> Int? { names.firstIndex(of: name) }
            guard let prompt = index(spec.promptColumn) else {
                throw RecordFailure(
                    position: at,
                    message: "no column named \"\(spec.promptColumn)\" (prompt_column); the header has \(listed)")
            }
            var columns = CSVColumns(count: names.count, prompt: prompt)
            columns.output = index(spec.outputColumn)
            if spec.outputTokensFromDataset, columns.output == nil {
                throw RecordFailure(
                    position: at,
                    message:
                        "no column named \"\(spec.outputColumn)\" (output_column, needed by output_tokens: from_dataset); "
                        + "the header has \(listed)")
            }
            if let system = spec.systemColumn {
                guard let index = index(system) else {
                    throw RecordFailure(
                        position: at, message: "no column named \"\(system)\" (system_column); the header has \(listed)"
                    )
                }
                columns.system = index
            }
            return columns
        }

        mutating func add(_ row: DatasetCSVScanner.Row, columns: CSVColumns) throws(RecordFailure) {
            recordCount += 1
            guard row.fields.count == columns.count else {
                throw RecordFailure(
                    position: row.fields[0].position,
                    message: "expected \(columns.count) fields (as the header), got \(row.fields.count)")
            }
            var length: Int?
            if let output = columns.output {
                let field = row.fields[output]
                let text = field.text.trimmingCharacters(in: .whitespaces)
                if !text.isEmpty {
                    guard let count = Int(text), count >= 1 else {
                        throw RecordFailure(
                            position: field.position,
                            message:
                                "column \"\(spec.outputColumn)\": expected a whole number ≥ 1, got \"\(field.text)\"")
                    }
                    length = count
                }
            }
            let system = columns.system.map { row.fields[$0].text }.flatMap { $0.isEmpty ? nil : $0 }
            let prompt = row.fields[columns.prompt].text
            guard !prompt.isEmpty else { return skips.add("empty prompts", line: row.line) }
            conversations.append(
                DatasetConversation(
                    line: row.line, system: system, turns: [DatasetTurn(user: prompt, answerTokens: length)]))
        }
    }
}

/// A scanner of one window of a dataset file that says `needMore` when the window ends inside an item and
/// goes on from a saved state in the next window (`DatasetJSONScanner`, `DatasetCSVScanner`).
protocol DatasetWindowScanner {
    associatedtype State: DatasetScanState
    associatedtype Item
    init(_ window: UnsafeBufferPointer<UInt8>, baseOffset: Int, atEOF: Bool, state: State)
    var pos: Int { get set }
    var state: State { get }
    /// The next item, nil after the last.
    mutating func nextItem() throws(DatasetJSONScanner.Failure) -> Item?
}

/// A scanner's state between windows: at least where its current line starts.
protocol DatasetScanState {
    init()
    var lineStart: Int { get }
}

extension DatasetJSONScanner: DatasetWindowScanner {
    mutating func nextItem() throws(Failure) -> DatasetJSON? { try nextRecord() }
}

extension DatasetJSONScanner.State: DatasetScanState {}

extension DatasetCSVScanner: DatasetWindowScanner {
    mutating func nextItem() throws(Failure) -> Row? { try nextRow() }
}

extension DatasetCSVScanner.State: DatasetScanState {}
