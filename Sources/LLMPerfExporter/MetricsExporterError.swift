/// Why the live metrics endpoint could not start; the message is meant for the user as it is.
public enum MetricsExporterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--metrics-listen` is not `HOST:PORT`.
    case invalidAddress(String)
    /// The address is well formed but cannot be listened on (port taken, no such host, not allowed).
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case .invalidAddress(let message): return "--metrics-listen \(message)"
        case .cannotListen(let address, let reason):
            return "--metrics-listen \(address): cannot listen there: \(reason)"
        }
    }
}
