import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Where a started server listens.
public struct BoundServer: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// `http` or `https`.
    public var scheme: String

    /// e.g. `http://127.0.0.1:8080`
    public var url: String { "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// The OpenAI-compatible server behind `llmperf serve` (which also speaks Anthropic's Messages API).
public enum LLMServer {
    /// Binds, calls `onReady` with the bound address (the engine may still be loading: `/health`
    /// answers 503 until it is ready), and serves until SIGINT/SIGTERM (when `handleSignals`) or until
    /// the calling task is cancelled; then stops accepting, gives in-flight responses
    /// `shutdownGracePeriod`, and flushes the trace file. Throws when binding, TLS setup, the trace
    /// file or the engine fails.
    public static func run(
        configuration: ServerConfiguration, handleSignals: Bool = true,
        onReady: @escaping @Sendable (BoundServer) -> Void = { _ in }
    ) async throws {
        var logger = Logger(label: "llmperf.serve")
        logger.logLevel = configuration.logLevel
        let trace = try configuration.tracePath.map { try TraceRecorder(path: $0) }
        defer { trace?.close() }
        let engineHost = EngineHost()
        let responder = OpenAIResponder(
            engineHost: engineHost, metrics: ServerMetrics(), trace: trace, maxBodyBytes: configuration.maxBodyBytes,
            faults: FaultInjector(configuration: configuration.faults ?? FaultConfiguration()),
            apiKey: configuration.apiKey.map(APIKeyCheck.init(key:)))

        // The idle timeout doubles as the header timeout: Hummingbird counts it from the connection's start or
        // the last response until a request head is parsed, so a client that trickles a head is closed.
        let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(configuration.headerTimeout))
        let plain = HTTPServerBuilder { respond in
            NoDelayChildChannel(base: HTTP1Channel(responder: respond, configuration: http1))
        }
        let server: HTTPServerBuilder
        let scheme: String
        switch (configuration.tlsCertificatePath, configuration.tlsKeyPath) {
        case (let certificatePath?, let keyPath?):
            server = try .tls(
                plain, tlsConfiguration: tlsConfiguration(certificatePath: certificatePath, keyPath: keyPath))
            scheme = "https"
        case (nil, nil):
            server = plain
            scheme = "http"
        default:
            throw LLMServerError.incompleteTLSConfiguration
        }

        let host = configuration.host
        let port = configuration.port
        let app = Application(
            responder: responder, server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                onReady(BoundServer(host: host, port: channel.localAddress?.port ?? port, scheme: scheme))
            },
            logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: app),
                .init(service: EngineShutdownService(host: engineHost), successTerminationBehavior: .ignore),
            ], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)

        // The service group runs in its own task so that cancelling the caller becomes a graceful
        // shutdown (stop accepting, finish or cut in-flight responses) instead of a hard cancel.
        let serverTask = Task { try await serviceGroup.run() }
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        engineHost.setReady(try await makeEngine(configuration.engine))
                    } catch {
                        if Task.isCancelled { return }  // the server stopped before the engine was ready
                        engineHost.setFailed("\(error)")
                        await serviceGroup.triggerGracefulShutdown()
                        throw error
                    }
                    if let trace {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .seconds(1))
                            trace.flush()
                        }
                    }
                }
                do {
                    try await serverTask.value
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
                try await group.waitForAll()  // rethrows an engine failure
            }
        } onCancel: {
            Task { await serviceGroup.triggerGracefulShutdown() }
        }
        // A trace that could not be written completely is an error, not a shorter file.
        try trace?.finish()
    }

    /// Starts a server in this process without signal handling (tests, embedding); stop it with `stop()`.
    public static func start(configuration: ServerConfiguration) async throws -> RunningServer {
        let (ready, continuation) = AsyncStream<BoundServer>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await run(configuration: configuration, handleSignals: false) { continuation.yield($0) }
        }
        for await bound in ready {
            return RunningServer(bound: bound, task: task)
        }
        try await task.value
        throw LLMServerError.stoppedBeforeListening
    }

    private static func makeEngine(_ engine: ServerConfiguration.Engine) async throws -> any ServingEngine {
        switch engine {
        case .synthetic(let configuration): return SyntheticEngine(configuration: configuration)
        case .custom(let make): return try await make()
        }
    }

    private static func tlsConfiguration(certificatePath: String, keyPath: String) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
    }
}

/// A server started with `LLMServer.start`.
public final class RunningServer: Sendable {
    public let bound: BoundServer
    private let task: Task<Void, any Error>

    init(bound: BoundServer, task: Task<Void, any Error>) {
        self.bound = bound
        self.task = task
    }

    public var port: Int { bound.port }
    public var url: String { bound.url }

    /// Cancels the server and waits until it has shut down (trace flushed); rethrows what stopped it otherwise.
    public func stop() async throws {
        task.cancel()
        try await task.value
    }
}

public enum LLMServerError: Error, CustomStringConvertible {
    case incompleteTLSConfiguration
    case stoppedBeforeListening

    public var description: String {
        switch self {
        case .incompleteTLSConfiguration: return "TLS needs both a certificate and a key path"
        case .stoppedBeforeListening: return "the server stopped before it was listening"
        }
    }
}
