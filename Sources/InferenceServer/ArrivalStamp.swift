import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// When each request's first bytes were read from its connection. A handler in front of the
/// HTTP handlers of every connection stamps the first read after the previous request was taken; the
/// responder takes that stamp as the request's arrival. Stamping here rather than in the
/// handler keeps the server's own queueing (parsing, the hop onto the task pool) inside its
/// account of TTFT, so `llmperf calibrate` compares like with like.
final class ArrivalStamp: Sendable {
    private let nanos = NIOLockedValueBox<UInt64?>(nil)
    /// When the connection was accepted (its channel set up), handed out once: to its first request.
    private let accepted: NIOLockedValueBox<UInt64?>

    init(acceptedNanos: UInt64? = nil) {
        accepted = NIOLockedValueBox(acceptedNanos)
    }

    /// The connection's accept time for its first request; nil for every later one.
    func takeAccepted() -> UInt64? {
        accepted.withLockedValue { value in
            defer { value = nil }
            return value
        }
    }

    /// Called on the event loop for every read: only the first after a `take` counts.
    func stampIfArmed(_ now: UInt64) {
        nanos.withLockedValue { if $0 == nil { $0 = now } }
    }

    /// The stamp of the request being answered (nil if none), arming the next one.
    func take() -> UInt64? {
        nanos.withLockedValue { value in
            defer { value = nil }
            return value
        }
    }
}

/// Stamps reads for one connection's `ArrivalStamp`.
final class ArrivalStampHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let stamp: ArrivalStamp

    init(stamp: ArrivalStamp) { self.stamp = stamp }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        stamp.stampIfArmed(MonotonicClock.nowNanos())
        context.fireChannelRead(data)
    }
}

/// The request context the server uses: Hummingbird's basics plus the connection's arrival stamp and the
/// connection itself (the fault mode resets it; the trace records its remote port).
struct ServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let arrival: ArrivalStamp?
    let connection: (any Channel)?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        arrival = ArrivalStampRegistry.stamp(for: source.channel)
        connection = source.channel
    }

    /// The client's port (nil when the connection has no IP address).
    var remotePort: Int? { connection?.remoteAddress?.port }
}

/// Finds a connection's stamp from its channel (the context is built off the event loop).
enum ArrivalStampRegistry {
    private static let stamps = NIOLockedValueBox<[ObjectIdentifier: ArrivalStamp]>([:])

    static func register(_ channel: any Channel) -> ArrivalStamp {
        let stamp = ArrivalStamp(acceptedNanos: MonotonicClock.nowNanos())
        let key = ObjectIdentifier(channel)
        stamps.withLockedValue { $0[key] = stamp }
        channel.closeFuture.whenComplete { _ in _ = stamps.withLockedValue { $0.removeValue(forKey: key) } }
        return stamp
    }

    static func stamp(for channel: any Channel) -> ArrivalStamp? {
        stamps.withLockedValue { $0[ObjectIdentifier(channel)] }
    }
}
