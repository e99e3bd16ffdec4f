import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A backend that `llmperf run` starts (`target.backend: local`) must not outlive it. Killed with
/// SIGKILL, the parent cannot stop its child, so the child watches its parent instead.
public enum ParentWatch {
    /// Set by the parent to its own pid.
    public static let environmentKey = "LLMPERF_PARENT_PID"

    /// When `LLMPERF_PARENT_PID` names a process, a thread checks every 200 ms that it is still
    /// this process's parent. Once it is not (the parent died and this process was re-parented),
    /// SIGTERM goes to this process, which then shuts down as it does on Ctrl-C.
    public static func startIfAsked(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let text = environment[environmentKey], let expected = pid_t(text), expected > 1 else { return }
        let thread = Thread {
            while getppid() == expected { usleep(200_000) }
            kill(getpid(), SIGTERM)
        }
        thread.name = "llmperf-parent-watch"
        thread.start()
    }
}
