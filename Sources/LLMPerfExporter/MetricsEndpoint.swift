import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// Serves a registry at `GET /metrics` in the Prometheus text format (Hummingbird, on NIO's own threads) until
/// stopped. A scrape renders the registry there; the observer that fills it never waits for a scrape.
public final class MetricsEndpoint: Sendable {
    /// Where it listens, with the port as bound (port 0 asks for a free one).
    public let address: MetricsListenAddress
    private let server: Task<Void, Never>

    public var url: String { "http://\(address)/metrics" }

    private init(address: MetricsListenAddress, server: Task<Void, Never>) {
        self.address = address
        self.server = server
    }

    /// Binds and returns once the socket listens; throws `cannotListen` when it cannot (the port is taken, the
    /// host does not resolve or is not this machine's), so the caller can stop before sending anything.
    public static func start(
        _ address: MetricsListenAddress, registry: PrometheusCollectorRegistry
    ) async throws(MetricsExporterError) -> MetricsEndpoint {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        var logger = Logger(label: "llmperf.metrics")
        logger.logLevel = .critical  // standard output may carry --json
        let (started, report) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port)),
            onServerRunning: { channel in report.yield(.success(channel.localAddress?.port ?? address.port)) },
            logger: logger)
        let server = Task {
            do {
                // No signal handlers of its own: Ctrl-C belongs to the run.
                try await app.runService(gracefulShutdownSignals: [])
                report.yield(.failure(CancellationError()))
            } catch {
                report.yield(.failure(error))
            }
            report.finish()
        }
        for await event in started {
            switch event {
            case .success(let port):
                return MetricsEndpoint(address: MetricsListenAddress(host: address.host, port: port), server: server)
            case .failure(let error):
                throw .cannotListen(address: "\(address)", reason: reason(error))
            }
        }
        throw .cannotListen(address: "\(address)", reason: "the server stopped before it listened")
    }

    /// Stops listening and waits for the server to end.
    public func stop() async {
        server.cancel()
        await server.value
    }

    /// The cause in words: the system's message for a socket error, the resolver's for a host.
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased() + " (errno \(error.errnoCode))"
        }
        if let error = error as? SocketAddressError.UnknownHost {
            return "no such host '\(error.host)' (\(error.errorDescription))"
        }
        return "\(error)"
    }
}
