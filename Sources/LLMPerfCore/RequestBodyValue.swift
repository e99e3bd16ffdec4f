import Foundation

/// A JSON value that `workload.extra_body` adds to every request body (e.g. vLLM's
/// `ignore_eos: true`). YAML plain scalars keep their type (`true` is a boolean, `4` an
/// integer, `0.5` a number); quoted scalars are strings.
public indirect enum RequestBodyValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([RequestBodyValue])
    case object([RequestBodyField])

    /// Compact JSON with keys in the order written (deterministic).
    public var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .number(let value): return value.isFinite ? "\(value)" : "null"
        case .string(let value): return JSONQuoting.quoted(value)
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let fields): return RequestBodyField.objectText(fields)
        }
    }
}

/// One key of a JSON object in `workload.extra_body`.
public struct RequestBodyField: Sendable, Equatable {
    public var key: String
    public var value: RequestBodyValue

    public init(key: String, value: RequestBodyValue) {
        self.key = key
        self.value = value
    }

    /// `{"a":1,"b":true}`.
    public static func objectText(_ fields: [RequestBodyField]) -> String {
        "{" + fields.map { JSONQuoting.quoted($0.key) + ":" + $0.value.jsonText }.joined(separator: ",") + "}"
    }
}
