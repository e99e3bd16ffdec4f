import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process that writes a run, stored with the run while it is `running`: a later open of
/// the database marks the run `interrupted` when that process is gone (killed with `kill -9`,
/// crashed, or the machine restarted), instead of leaving it `running` for ever.
public struct RunOwner: Sendable, Equatable {
    public var host: String
    public var pid: Int32
    /// When the process started, in clock ticks since boot (`/proc/PID/stat` field 22): tells
    /// the owner from a later process that was given the same pid. Nil where it cannot be read.
    public var startTicks: UInt64?

    public init(host: String, pid: Int32, startTicks: UInt64?) {
        self.host = host
        self.pid = pid
        self.startTicks = startTicks
    }

    /// This process.
    public static var current: RunOwner {
        let pid = getpid()
        return RunOwner(host: currentHost, pid: pid, startTicks: processStatus(pid)?.startTicks)
    }

    /// The host name as `gethostname` gives it.
    public static var currentHost: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return ProcessInfo.processInfo.hostName }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the owner can be known to have ended. Only answers for this host: a process on
    /// another machine cannot be looked at, so its runs are left alone.
    public func isGone(onHost host: String = RunOwner.currentHost) -> Bool {
        guard host == self.host else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        // The pid exists: it is the owner unless /proc says it is a zombie or started at
        // another time (the pid was reused).
        guard let status = Self.processStatus(pid) else { return false }
        if status.state == "Z" { return true }
        if let startTicks, let now = status.startTicks, now != startTicks { return true }
        return false
    }

    struct ProcessStatus {
        var state: Character
        var startTicks: UInt64?
    }

    /// The state and start time of a process from `/proc/PID/stat`; nil where it cannot be read.
    static func processStatus(_ pid: Int32) -> ProcessStatus? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        return parseStat(String(decoding: data, as: UTF8.self))
    }

    /// `pid (comm) state ppid …`: the command name may hold spaces and parentheses, so the
    /// fields are counted from the last `)`. Field 3 is the state, field 22 the start time.
    static func parseStat(_ text: String) -> ProcessStatus? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard let state = fields.first?.first else { return nil }
        let startField = 22 - 3
        let start = fields.count > startField ? UInt64(fields[startField]) : nil
        return ProcessStatus(state: state, startTicks: start)
    }
}
