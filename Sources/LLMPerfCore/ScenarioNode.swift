import Foundation
import Yams

/// The scenario YAML as a plain, Sendable tree that remembers where every value was written,
/// so that merged variants still point at their own lines. Built from Yams' composer.
struct ScenarioNode: Sendable {
    enum ScalarStyle: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    struct Entry: Sendable {
        var key: String
        var keyLine: Int
        var keyColumn: Int
        var value: ScenarioNode
    }

    enum Value: Sendable {
        /// `isNull` is true for a plain `~`, `null` or empty value.
        case scalar(text: String, style: ScalarStyle, isNull: Bool)
        case mapping([Entry])
        case sequence([ScenarioNode])
    }

    var value: Value
    var line: Int
    var column: Int
    /// The variant whose overrides wrote this value; nil when it comes from the base document.
    var variant: String?

    var isNull: Bool {
        if case .scalar(_, _, true) = value { return true }
        return false
    }

    var scalarText: String? {
        if case .scalar(let text, _, false) = value { return text }
        return nil
    }

    var entries: [Entry]? {
        if case .mapping(let entries) = value { return entries }
        return nil
    }

    var items: [ScenarioNode]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    /// The value under `key` of a mapping, nil when absent or null.
    subscript(key: String) -> ScenarioNode? {
        guard let entry = entries?.first(where: { $0.key == key }), !entry.value.isNull else { return nil }
        return entry.value
    }

    func entry(_ key: String) -> Entry? {
        entries?.first(where: { $0.key == key && !$0.value.isNull })
    }

    /// How a value is named in "expected …, got …" messages.
    var shortDescription: String {
        switch value {
        case .scalar(let text, _, let isNull): return isNull ? "nothing" : "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// This node with every value marked as written by `variant`.
    func marked(variant: String) -> ScenarioNode {
        var copy = self
        copy.variant = variant
        switch value {
        case .scalar: break
        case .mapping(let entries):
            copy.value = .mapping(
                entries.map {
                    Entry(
                        key: $0.key, keyLine: $0.keyLine, keyColumn: $0.keyColumn,
                        value: $0.value.marked(variant: variant))
                }
            )
        case .sequence(let items): copy.value = .sequence(items.map { $0.marked(variant: variant) })
        }
        return copy
    }

    /// Deep merge: mappings merge key by key (new keys appended in the override's order), any
    /// other value replaces the base's, and a null override removes the key.
    func merged(with override: ScenarioNode) -> ScenarioNode {
        guard case .mapping(var baseEntries) = value, case .mapping(let overrideEntries) = override.value else {
            return override
        }
        for entry in overrideEntries {
            if let index = baseEntries.firstIndex(where: { $0.key == entry.key }) {
                if entry.value.isNull {
                    baseEntries.remove(at: index)
                } else {
                    baseEntries[index].value = baseEntries[index].value.merged(with: entry.value)
                    baseEntries[index].keyLine = entry.keyLine
                    baseEntries[index].keyColumn = entry.keyColumn
                }
            } else if !entry.value.isNull {
                baseEntries.append(entry)
            }
        }
        var copy = self
        copy.value = .mapping(baseEntries)
        return copy
    }
}

// MARK: - from and to Yams

extension ScenarioNode {
    /// Converts a composed Yams node (aliases arrive already resolved by the composer).
    static func from(_ node: Node) -> Result<ScenarioNode, Unsupported> {
        let mark = node.mark
        let line = mark?.line ?? 1
        let column = mark?.column ?? 1
        switch node {
        case .scalar(let scalar):
            let style: ScalarStyle
            switch scalar.style {
            case .singleQuoted: style = .singleQuoted
            case .doubleQuoted: style = .doubleQuoted
            case .literal: style = .literal
            case .folded: style = .folded
            default: style = .plain
            }
            let isNull =
                scalar.tag.rawValue == Tag.Name.null.rawValue
                || style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            return .success(
                ScenarioNode(
                    value: .scalar(text: scalar.string, style: style, isNull: isNull), line: line, column: column))
        case .mapping(let mapping):
            var entries: [Entry] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    return .failure(
                        Unsupported(
                            line: key.mark?.line ?? line, column: key.mark?.column ?? column,
                            message: "expected a plain key (a word or string), got a list or mapping as a key"))
                }
                switch from(value) {
                case .success(let converted):
                    entries.append(
                        Entry(
                            key: keyScalar.string, keyLine: key.mark?.line ?? line,
                            keyColumn: key.mark?.column ?? column,
                            value: converted))
                case .failure(let failure): return .failure(failure)
                }
            }
            return .success(ScenarioNode(value: .mapping(entries), line: line, column: column))
        case .sequence(let sequence):
            var items: [ScenarioNode] = []
            for item in sequence {
                switch from(item) {
                case .success(let converted): items.append(converted)
                case .failure(let failure): return .failure(failure)
                }
            }
            return .success(ScenarioNode(value: .sequence(items), line: line, column: column))
        case .alias:
            return .failure(Unsupported(line: line, column: column, message: "unresolved YAML alias"))
        }
    }

    /// YAML this format has no use for (a list or mapping as a key).
    struct Unsupported: Error {
        var line: Int
        var column: Int
        var message: String
    }

    /// Back to a Yams node for emitting (block style throughout, scalar styles kept).
    var yamsNode: Node {
        switch value {
        case .scalar(let text, let style, let isNull):
            if isNull { return Node.scalar(.init("null", .implicit, .plain)) }
            let yamsStyle: Node.Scalar.Style
            switch style {
            case .plain: yamsStyle = .plain
            case .singleQuoted: yamsStyle = .singleQuoted
            case .doubleQuoted: yamsStyle = .doubleQuoted
            case .literal: yamsStyle = .literal
            case .folded: yamsStyle = .folded
            }
            return Node.scalar(.init(text, .implicit, yamsStyle))
        case .mapping(let entries):
            return Node.mapping(
                .init(entries.map { (Node.scalar(.init($0.key)), $0.value.yamsNode) }, .implicit, .block))
        case .sequence(let items):
            return Node.sequence(.init(items.map(\.yamsNode), .implicit, .block))
        }
    }
}
