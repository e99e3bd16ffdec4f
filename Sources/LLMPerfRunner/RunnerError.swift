// LLMPerfRunner: the orchestration behind the `llmperf` commands (the run pipeline, lab
// sessions, calibration, the local backend, the gate), written against the seams LLMPerfCore
// defines (`Transport`, `TraceSink`, `RunRepository`, `RunClock`) so that tests drive it with
// fakes. The executable parses arguments and wires the Client and Store implementations in.

/// The process exit statuses, in one place.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case failure = 1
    case invalidInput = 2
    case gateFailed = 3
    case interrupted = 130
}

/// An error that carries its exit status and a message for the user.
public struct CLIError: Error, Sendable {
    public var message: String
    public var code: ExitStatus

    public init(message: String, code: ExitStatus) {
        self.message = message
        self.code = code
    }

    public static func invalid(_ message: String) -> CLIError { CLIError(message: message, code: .invalidInput) }
    public static func failure(_ message: String) -> CLIError { CLIError(message: message, code: .failure) }
}
