import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
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
        let respond = Self.responding(with: responder, logger: logger)
        let plain = NoDelayChildChannel(base: HTTP1Channel(responder: respond, configuration: http1))
        let host = configuration.host
        let port = configuration.port
        let server: any Service
        switch (configuration.tlsCertificatePath, configuration.tlsKeyPath) {
        case (let certificatePath?, let keyPath?):
            let tls = try TLSChannel(
                plain, tlsConfiguration: tlsConfiguration(certificatePath: certificatePath, keyPath: keyPath))
            server = AcceptingServer(
                childChannel: tls, configuration: .init(host: host, port: port), eventLoopGroup: eventLoopGroup,
                logger: logger
            ) { channel in
                onReady(BoundServer(host: host, port: channel.localAddress?.port ?? port, scheme: "https"))
            }
        case (nil, nil):
            server = AcceptingServer(
                childChannel: plain, configuration: .init(host: host, port: port), eventLoopGroup: eventLoopGroup,
                logger: logger
            ) { channel in
                onReady(BoundServer(host: host, port: channel.localAddress?.port ?? port, scheme: "http"))
            }
        default:
            throw LLMServerError.incompleteTLSConfiguration
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: server),
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

    private static let eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    /// What HTTP1Channel calls for each request: the responder's answer, with a Date header (RFC 9110 §6.6.1),
    /// written in one go. An error from the responder is a 500; a parse error while the answer is written
    /// closes the connection (a second response head would break the stream).
    private static func responding(with responder: OpenAIResponder, logger: Logger) -> HTTPChannelHandler.Responder {
        let dates = HTTPDateCache()
        return { request, writer, channel in
            var response: Response
            do {
                response = try await responder.respond(
                    to: request, context: ServerRequestContext(source: .init(channel: channel, logger: logger)))
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("the responder failed: \(error)")
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = dates.now()
            do {
                try await writer.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                throw LLMServerError.parseErrorWhileWriting
            }
        }
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
    case parseErrorWhileWriting

    public var description: String {
        switch self {
        case .incompleteTLSConfiguration: return "TLS needs both a certificate and a key path"
        case .stoppedBeforeListening: return "the server stopped before it was listening"
        case .parseErrorWhileWriting: return "the request could not be parsed while its response was written"
        }
    }
}
