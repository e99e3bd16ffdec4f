import Foundation
import Yams

/// A JSON or YAML value, with an object's keys in document order.
indirect enum JSONValue: Equatable, Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// A JSON document (a schema): object keys sorted, so the checks report in a stable order.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            let value = try container.decode([String: JSONValue].self)
            self = .object(value.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
        }
    }

    /// A YAML node, each scalar typed as YAML 1.1's core schema resolves it (as Kubernetes reads it).
    init(_ node: Node) {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case .null: self = .null
            case .bool: self = node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: self = node.int.map(JSONValue.integer) ?? .string(scalar.string)
            case .float: self = node.float.map(JSONValue.number) ?? .string(scalar.string)
            default: self = .string(scalar.string)
            }
        case .mapping(let mapping):
            self = .object(mapping.map { (key: $0.key.string ?? "\($0.key)", value: JSONValue($0.value)) })
        case .sequence(let sequence): self = .array(sequence.map(JSONValue.init))
        case .alias: self = .null
        }
    }

    subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var integer: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }
}

/// A small JSON-schema check, the subset Kubernetes' strict schemas use (as kubeconform applies them):
/// `type` (one or a list), `enum`, `properties`, `required`, `additionalProperties` (false or a schema),
/// `items` and `oneOf`; `format` and the rest are ignored. Each error names the path of the value.
struct JSONSchemaCheck {
    var schema: JSONValue

    /// The schema in `Fixtures/kubernetes/NAME.json`.
    static func fixture(_ name: String) throws -> JSONSchemaCheck {
        guard
            let url = Bundle.module.url(
                forResource: name, withExtension: "json", subdirectory: "Fixtures/kubernetes")
        else { throw FixtureMissing(name: name) }
        return JSONSchemaCheck(schema: try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url)))
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        var name: String
        var description: String { "no schema Fixtures/kubernetes/\(name).json" }
    }

    /// Every way `value` breaks the schema, as `path: what`; empty when it conforms.
    func errors(in value: JSONValue) -> [String] { Self.errors(value, schema, path: "") }

    static func errors(_ value: JSONValue, _ schema: JSONValue, path: String) -> [String] {
        let here = path.isEmpty ? "(root)" : path
        if let types = schema["type"] {
            let allowed = types.array?.compactMap(\.string) ?? [types.string].compactMap { $0 }
            guard allowed.contains(where: { matches(value, type: $0) }) else {
                return ["\(here): expected \(allowed.joined(separator: " or ")), got \(describe(value))"]
            }
        }
        if let options = schema["enum"]?.array, value != .null, !options.contains(value) {
            return ["\(here): \(describe(value)) is not one of \(options.map(describe).joined(separator: ", "))"]
        }
        if let options = schema["oneOf"]?.array {
            let matching = options.filter { errors(value, $0, path: path).isEmpty }.count
            if matching != 1 { return ["\(here): matches \(matching) of the oneOf schemas, not exactly 1"] }
        }
        var found: [String] = []
        if case .object(let pairs) = value {
            for name in schema["required"]?.array?.compactMap(\.string) ?? []
            where !pairs.contains(where: { $0.key == name }) {
                found.append("\(here): missing required property '\(name)'")
            }
            for (key, item) in pairs {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if let property = schema["properties"]?[key] {
                    found += errors(item, property, path: child)
                } else if let extra = schema["additionalProperties"] {
                    if extra == .bool(false) {
                        found.append("\(here): additional property '\(key)' is not allowed")
                    } else if case .object = extra {
                        found += errors(item, extra, path: child)
                    }
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() { found += errors(item, itemSchema, path: "\(path)[\(index)]") }
        }
        return found
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
            ("string", .string), ("array", .array), ("object", .object):
            true
        default: false
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let x): "boolean \(x)"
        case .integer(let x): "integer \(x)"
        case .number(let x): "number \(x)"
        case .string(let x): "string \"\(x)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
