/// Where `--metrics-listen` serves: `HOST:PORT` (`127.0.0.1:9464`, `0.0.0.0:9464`, `localhost:9464`,
/// `[::1]:9464`); port 0 picks a free one.
public struct MetricsListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; the error says what is wrong and what is expected.
    public init(parsing text: String) throws(MetricsExporterError) {
        let example = "expected HOST:PORT such as 127.0.0.1:9464"
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            // IPv6: [::1]:9464
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                throw .invalidAddress("'\(text)': \(example) (IPv6 as [::1]:9464)")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalidAddress("'\(text)': \(example)") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw .invalidAddress("'\(text)': write an IPv6 host in brackets, as [::1]:9464")
            }
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0 == " " || $0 == "/" }) else {
            throw .invalidAddress("'\(text)': no host before the port; \(example)")
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw .invalidAddress("'\(text)': the port must be a number from 0 to 65535, got '\(portPart)'")
        }
        self.init(host: String(hostPart), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
