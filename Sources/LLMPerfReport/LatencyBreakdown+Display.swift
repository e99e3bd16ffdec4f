import LLMPerfCore

/// How the reports name a breakdown's segments and sides, and colour them.
extension LatencyBreakdown.Segment {
    /// The segment inside a sentence: "−38.2 ms of it is the server's queue wait".
    public var phrase: String {
        switch self {
        case .dns: return "DNS"
        case .tcp: return "the TCP connect"
        case .tls: return "the TLS handshake"
        case .request: return "sending the request"
        case .preprocess: return "the server's preprocessing"
        case .queue: return "the server's queue wait"
        case .prefill: return "the server's prefill"
        case .firstTokenWire: return "the network and client up to the first token"
        case .decode: return "the server's decode"
        case .postprocess: return "the server's postprocessing"
        case .lastByteWire: return "the network and client after the first token"
        }
    }

    /// Shades of its side's hue (client blue, server orange, wire gray), so a bar reads by side first.
    var color: String {
        switch self {
        case .dns: return "#08519C"
        case .tcp: return "#3182BD"
        case .tls: return "#6BAED6"
        case .request: return "#9ECAE1"
        case .preprocess: return "#FDD0A2"
        case .queue: return "#A63603"
        case .prefill: return "#F16913"
        case .decode: return "#FD8D3C"
        case .postprocess: return "#FDAE6B"
        case .firstTokenWire: return "#969696"
        case .lastByteWire: return "#C7C7C7"
        }
    }
}

extension LatencyBreakdown.Segment.Side {
    /// The side's own colour (its legend heading): the middle of its segments' shades.
    var color: String {
        switch self {
        case .client: return "#3182BD"
        case .server: return "#E6550D"
        case .wire: return "#969696"
        }
    }

    static let ordered: [LatencyBreakdown.Segment.Side] = [.client, .server, .wire]
}
