import Foundation

/// Per-phase limits; nil means no limit for that phase. Each one that fires is its own
/// failure kind (`timeout_connect`, `timeout_first_token`, `timeout_idle`, `timeout_total`).
public struct Timeouts: Sendable, Equatable {
    public var connect: Duration?
    public var firstToken: Duration?
    public var idle: Duration?
    public var total: Duration?

    public init(
        connect: Duration? = .seconds(10), firstToken: Duration? = nil, idle: Duration? = nil,
        total: Duration? = .seconds(600)
    ) {
        self.connect = connect
        self.firstToken = firstToken
        self.idle = idle
        self.total = total
    }
}
