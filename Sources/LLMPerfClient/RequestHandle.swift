import Foundation

/// Names one submitted request so it can be cancelled. Its state is only touched under the
/// owning loop's inbox lock.
public final class RequestHandle: @unchecked Sendable, Hashable {
    public let id: UInt64
    /// Guarded by `CurlLoopInbox.lock`.
    var cancelRequested = false

    init(id: UInt64) { self.id = id }

    public static func == (lhs: RequestHandle, rhs: RequestHandle) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
