import Dispatch
import Foundation
import LLMPerfCore
import LLMPerfReport

/// The live progress of a run on standard error: a line redrawn four times a second on a
/// terminal; a plain line every five seconds otherwise (or with `--quiet`). Constant memory:
/// counters and a `LiveHistogram` of TTFT (its p50 within 0.4%; the stored summary is exact).
final class RunProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let name: String
    private let total: Int?
    private let interactive: Bool
    private let startNanos = DispatchTime.now().uptimeNanoseconds
    private var done = 0
    private var errors = 0
    private var outputTokens = 0
    private var ttfts = LiveHistogram()
    private var timer: DispatchSourceTimer?

    init(name: String, total: Int?, interactive: Bool) {
        self.name = name
        self.total = total
        self.interactive = interactive
    }

    func record(_ trace: RequestTrace) {
        lock.lock()
        done += 1
        if !trace.succeeded { errors += 1 }
        outputTokens += trace.outputTokens
        if trace.succeeded, !trace.isWarmup, let ttft = Metric.ttft.value(of: trace) { ttfts.add(ttft) }
        lock.unlock()
    }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "llmperf.progress"))
        let interval: DispatchTimeInterval = interactive ? .milliseconds(250) : .seconds(5)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.draw() }
        timer.resume()
        self.timer = timer
    }

    func finish() {
        timer?.cancel()
        timer = nil
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func draw() {
        lock.lock()
        let ttftP50 = ttfts.quantile(0.5)
        let snapshot = ProgressSnapshot(
            done: done, total: total, errors: errors,
            elapsedSeconds: Double(DispatchTime.now().uptimeNanoseconds - startNanos) / 1e9,
            outputTokens: outputTokens, ttftP50Milliseconds: ttftP50)
        lock.unlock()
        let line = ProgressLine.render(snapshot, name: name)
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }
}

/// Ctrl-C while measuring: the first stops the run gracefully (everything measured is kept),
/// a second one exits at once.
final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let lock = NSLock()
    private var count = 0
    private var onInterrupt: (@Sendable () -> Void)?

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "llmperf.sigint"))
        source.setEventHandler { [weak self] in self?.fire() }
        source.resume()
    }

    var interrupted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return count > 0
    }

    /// What to do on the next Ctrl-C (replaces the previous action).
    func onInterrupt(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        onInterrupt = action
        let already = count > 0
        lock.unlock()
        if already { action() }
    }

    private func fire() {
        lock.lock()
        count += 1
        let n = count
        let action = onInterrupt
        lock.unlock()
        if n == 1 {
            FileHandle.standardError.write(
                Data("\nllmperf: interrupted; finishing requests in flight (Ctrl-C again to quit now)\n".utf8))
            action?()
        } else {
            exit(ExitStatus.interrupted.rawValue)
        }
    }
}
