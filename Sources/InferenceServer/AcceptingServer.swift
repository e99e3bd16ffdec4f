import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// The listening socket of `llmperf serve`, in place of Hummingbird's `Server`, for one reason: how fast a
/// burst of new connections is taken off the accept queue.
///
/// Hummingbird binds with NIO's default back-pressure on the stream of accepted connections (it stops
/// accepting once 10 are waiting for the Swift task that starts their handlers, and starts again below 2)
/// and the socket default of 4 accepts per wake-up. Here the stream holds up to `acceptBuffer` connections
/// before it pushes back, and every wake-up accepts up to `acceptsPerWakeup`; the rest (handing each
/// connection to its child channel, the graceful shutdown through NIO's quiescing helper) is what `Server`
/// does. Measured with `llmperf calibrate --scale 0.5` (release builds, nine alternating pairs on the 2-core
/// machine): a cold burst of 256 connections went from 32.4 to 29.3 ms median TTFT bias (run medians'
/// median) and from 126.5 to 44.1 ms p99, lower in 8 and 9 of the 9 pairs; a burst of 64 stayed where it
/// was (the server's CPU per connection, shared with the client on two cores, is what it waits for).
struct AcceptingServer<ChildChannel: ServerChildChannel>: Service {
    struct Configuration: Sendable {
        var host: String
        var port: Int
        /// The kernel's queue of connections not yet accepted (listen(2)'s backlog).
        var backlog: Int32 = 1024
        /// Accepted connections the server holds before it stops accepting (NIO's high watermark); it
        /// starts again once fewer than a quarter of them wait.
        var acceptBuffer: Int = 256
        /// Connections accepted each time the listening socket wakes the event loop.
        var acceptsPerWakeup: UInt = 64
    }

    let childChannel: ChildChannel
    let configuration: Configuration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    /// Called once the socket listens, with the listening channel (its local address has the bound port).
    let onServerRunning: @Sendable (any Channel) async -> Void

    func run() async throws {
        let quiescing = ServerQuiescingHelper(group: eventLoopGroup)
        let childChannel = childChannel
        let logger = logger
        let listening = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(ChannelOptions.backlog, value: configuration.backlog)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.maxMessagesPerRead, value: configuration.acceptsPerWakeup)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .bind(
                host: configuration.host, port: configuration.port,
                serverBackPressureStrategy: .init(
                    lowWatermark: max(1, configuration.acceptBuffer / 4), highWatermark: configuration.acceptBuffer)
            ) { channel in
                // A connection whose setup failed is closed, with the reason logged, never left unanswered.
                childChannel.setup(channel: channel, logger: logger).flatMapError { error in
                    logger.error("setting up a connection failed: \(error)")
                    return channel.close().flatMapThrowing { throw error }
                }
            }
        logger.info("listening on \(configuration.host):\(listening.channel.localAddress?.port ?? configuration.port)")

        await withGracefulShutdownHandler {
            await onServerRunning(listening.channel)
            await withDiscardingTaskGroup { group in
                do {
                    try await listening.executeThenClose { accepted in
                        for try await connection in accepted {
                            group.addTask { await childChannel.handle(value: connection, logger: logger) }
                        }
                    }
                } catch {
                    logger.error("accepting connections failed: \(error)")
                }
            }
        } onGracefulShutdown: {
            // Closes the listening socket (which ends the loop above) and asks every open connection to close
            // once its response is written; the task group then waits for them.
            let done = listening.channel.eventLoop.makePromise(of: Void.self)
            quiescing.initiateShutdown(promise: done)
        }
    }
}
