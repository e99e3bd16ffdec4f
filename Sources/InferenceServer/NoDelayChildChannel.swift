import HummingbirdCore
import Logging
import NIOCore

/// Sets TCP_NODELAY on every accepted connection before the HTTP pipeline is built, so a lone small
/// SSE event is never held back by Nagle's algorithm. (NIO sets it on the listening socket, which Linux
/// copies to accepted sockets; setting it here makes that explicit and platform-independent.) It is a TCP-level
/// option: at the socket level its number is SO_DEBUG, which only CAP_NET_ADMIN may set, and asking for that
/// once left every connection of a server run without root unanswered.
struct NoDelayChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // Added before the HTTP handlers and, over TLS, after the TLS handler: it stamps
        // decrypted request bytes, not the handshake.
        let stamp = ArrivalStampRegistry.register(channel)
        return channel.setOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1).flatMap {
            channel.pipeline.addHandler(ArrivalStampHandler(stamp: stamp), position: .last)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
