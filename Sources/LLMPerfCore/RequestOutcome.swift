import Foundation

/// How a request ended. A failed request is data, never an abort.
public enum RequestOutcome: Sendable, Equatable, Codable, CustomStringConvertible {
    case ok
    case failed(FailureKind, detail: String)

    public var failureKind: FailureKind? {
        if case .failed(let kind, _) = self { return kind }
        return nil
    }

    public var detail: String {
        if case .failed(_, let detail) = self { return detail }
        return ""
    }

    public var description: String {
        switch self {
        case .ok: return "ok"
        case .failed(let kind, let detail): return detail.isEmpty ? kind.code : "\(kind.code): \(detail)"
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, detail }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let code = try c.decode(String.self, forKey: .kind)
        if code == "ok" {
            self = .ok
            return
        }
        guard let kind = FailureKind(code: code) else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: c, debugDescription: "unknown failure kind '\(code)'")
        }
        self = .failed(kind, detail: try c.decodeIfPresent(String.self, forKey: .detail) ?? "")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .ok: try c.encode("ok", forKey: .kind)
        case .failed(let kind, let detail):
            try c.encode(kind.code, forKey: .kind)
            try c.encode(detail, forKey: .detail)
        }
    }
}

/// The phase a timeout fired in. Each is a distinct failure.
public enum TimeoutPhase: String, Sendable, Equatable, Codable, CaseIterable {
    /// No TCP/TLS connection within `timeouts.connect`.
    case connect
    /// Connected, but no content token within `timeouts.first_token`.
    case firstToken = "first_token"
    /// The stream went quiet for longer than `timeouts.idle` between chunks.
    case idle
    /// The whole request took longer than `timeouts.total`.
    case total
}

public enum FailureKind: Sendable, Equatable, Hashable, Codable {
    case dns
    case connect
    case tls
    case http(status: Int)
    case timeout(TimeoutPhase)
    /// Connection closed or reset mid-response; the tokens received so far are kept.
    case streamCut
    /// The response could not be understood (malformed SSE event or JSON).
    case decode
    /// Stopped by the user (Ctrl-C) before it finished.
    case cancelled
    /// Anything libcurl reports that fits none of the above.
    case transport

    /// Stable text form used in the database, reports and error tables: `http_500`,
    /// `timeout_first_token`, `stream_cut`, …
    public var code: String {
        switch self {
        case .dns: return "dns"
        case .connect: return "connect"
        case .tls: return "tls"
        case .http(let status): return "http_\(status)"
        case .timeout(let phase): return "timeout_\(phase.rawValue)"
        case .streamCut: return "stream_cut"
        case .decode: return "decode"
        case .cancelled: return "cancelled"
        case .transport: return "transport"
        }
    }

    public init?(code: String) {
        switch code {
        case "dns": self = .dns
        case "connect": self = .connect
        case "tls": self = .tls
        case "stream_cut": self = .streamCut
        case "decode": self = .decode
        case "cancelled": self = .cancelled
        case "transport": self = .transport
        default:
            if code.hasPrefix("http_"), let status = Int(code.dropFirst(5)) {
                self = .http(status: status)
            } else if code.hasPrefix("timeout_"), let phase = TimeoutPhase(rawValue: String(code.dropFirst(8))) {
                self = .timeout(phase)
            } else {
                return nil
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let code = try decoder.singleValueContainer().decode(String.self)
        guard let kind = FailureKind(code: code) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown failure kind '\(code)'"))
        }
        self = kind
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(code)
    }
}
