// LLMPerfRunner: the orchestration behind the `llmperf` commands (the run pipeline, lab
// sessions, calibration, the local backend), written against the seams LLMPerfCore defines
// (`Transport`, `TraceSink`, `RunRepository`, `RunClock`) so that tests drive it with fakes.
// The executable parses arguments and wires the Client, Store and Report implementations in.
