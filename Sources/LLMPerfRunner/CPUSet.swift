import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A set of CPUs, as `--cpus 1`, `--cpus 0-3,6` write it, and pinning this whole process to it: `llmperf serve
/// --cpus` and `llmperf calibrate --client-cpus/--server-cpus` keep a load generator and the server it measures off
/// each other's cores, so neither's work shows up in the other's latency.
public struct CPUSet: Sendable, Equatable, CustomStringConvertible {
    /// Ascending, without repeats, never empty.
    public let cpus: [Int]

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The most CPUs a mask here holds (glibc's `cpu_set_t`).
    static let maskCPUs = 1024

    /// Parses a comma-separated list of CPU numbers and ranges (`0`, `2-5`, `0,2-3`). `available` is the number of
    /// CPUs this machine has (CPUs 0 to available − 1); a CPU outside them is refused.
    public init(parsing text: String, available: Int = CPUSet.configuredCPUs) throws(Invalid) {
        var cpus: Set<Int> = []
        func invalid(_ why: String) -> Invalid {
            Invalid(description: "CPU list '\(text)': \(why) (e.g. 1, 0-3 or 0,2-3)")
        }
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.trimmingCharacters(in: .whitespaces).split(
                separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = Int(bounds[0]), low >= 0, let high = bounds.count == 2 ? Int(bounds[1]) : low else {
                throw invalid("'\(item)' is not a CPU number or a range of them")
            }
            guard low <= high else { throw invalid("the range '\(item)' runs backwards") }
            guard high < available else {
                throw invalid("CPU \(high) is not on this machine, whose CPUs are 0-\(available - 1)")
            }
            cpus.formUnion(low...high)
        }
        self.cpus = cpus.sorted()
    }

    /// The CPUs in the shortest list form (`0-3,6`).
    public var description: String {
        var parts: [String] = []
        var start = cpus[0]
        var end = cpus[0]
        for cpu in cpus.dropFirst() {
            if cpu == end + 1 {
                end = cpu
                continue
            }
            parts.append(start == end ? "\(start)" : "\(start)-\(end)")
            (start, end) = (cpu, cpu)
        }
        parts.append(start == end ? "\(start)" : "\(start)-\(end)")
        return parts.joined(separator: ",")
    }

    /// The CPUs the system was configured with (online or not).
    public static var configuredCPUs: Int { max(1, min(maskCPUs, Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))) }

    /// Pins every thread of this process to these CPUs; the threads it starts afterwards inherit the set from the
    /// thread that starts them. Throws with the system's reason (a CPU that is offline or outside this process's
    /// cgroup).
    public func pinProcess() throws(Invalid) {
        #if os(Linux)
            // glibc's sched_setaffinity is not in Swift's Glibc module (it needs _GNU_SOURCE): looked up by name.
            typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity") else {
                throw Invalid(description: "this C library has no sched_setaffinity")
            }
            let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
            var mask = [UInt64](repeating: 0, count: Self.maskCPUs / 64)
            for cpu in cpus { mask[cpu / 64] |= 1 << UInt64(cpu % 64) }
            let threads =
                (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task"))?.compactMap { Int32($0) }
                ?? [0]
            for thread in threads {
                let result = mask.withUnsafeBytes { setAffinity(thread, $0.count, $0.baseAddress!) }
                // A thread that ended since the listing is gone (ESRCH): nothing to pin.
                if result != 0 && errno != ESRCH {
                    throw Invalid(
                        description: "cannot run on CPUs \(self): \(String(cString: strerror(errno))) "
                            + "(this process may run on \(Self.allowed() ?? "unknown CPUs"))")
                }
            }
        #else
            throw Invalid(description: "pinning to CPUs is Linux only")
        #endif
    }

    /// The CPUs a process may run on (`Cpus_allowed_list` in `/proc/PID/status`, for `pid` "self" or a number).
    public static func allowed(pid: String = "self") -> String? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
            .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }
    }
}
