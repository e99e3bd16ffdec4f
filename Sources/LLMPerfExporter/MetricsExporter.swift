import LLMPerfCore

/// The client's live metrics as a command wires them: `ClientMetrics` to observe its runs, served by a
/// `MetricsEndpoint` that listens before anything is sent.
public struct MetricsExporter: Sendable {
    public let metrics: ClientMetrics
    public let endpoint: MetricsEndpoint

    public var observer: any RunObserver { metrics }

    public static func start(_ address: MetricsListenAddress) async throws(MetricsExporterError) -> MetricsExporter {
        let metrics = ClientMetrics()
        let endpoint = try await MetricsEndpoint.start(address, registry: metrics.registry)
        return MetricsExporter(metrics: metrics, endpoint: endpoint)
    }

    public func stop() async { await endpoint.stop() }
}
