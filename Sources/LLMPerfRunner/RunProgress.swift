import Dispatch
import Foundation
import LLMPerfCore
import LLMPerfReport

/// The counters behind a run's live line, in constant memory: counts and a `LiveHistogram` of
/// TTFT (its p50 within 0.4%; the stored summary is exact). Safe to feed from any thread.
public final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int?
    private var done = 0
    private var errors = 0
    private var outputTokens = 0
    private var ttfts = LiveHistogram()

    public init(total: Int?) { self.total = total }

    public func record(_ trace: RequestTrace) {
        lock.lock()
        done += 1
        if !trace.succeeded { errors += 1 }
        outputTokens += trace.outputTokens
        if trace.succeeded, !trace.isWarmup, let ttft = Metric.ttft.value(of: trace) { ttfts.add(ttft) }
        lock.unlock()
    }

    public func snapshot(elapsedSeconds: Double) -> ProgressSnapshot {
        lock.lock()
        defer { lock.unlock() }
        return ProgressSnapshot(
            done: done, total: total, errors: errors, elapsedSeconds: elapsedSeconds, outputTokens: outputTokens,
            ttftP50Milliseconds: ttfts.quantile(0.5))
    }
}

/// How a run shows its progress on standard error.
public enum ProgressMode: Sendable {
    /// A line redrawn four times a second (a terminal).
    case live
    /// A plain line every five seconds (no terminal, or `--quiet`).
    case plain
    /// Nothing (tests).
    case off
}

/// The live progress of a run on standard error, drawn from a `ProgressCounter` on a timer.
final class RunProgress: @unchecked Sendable {
    let counter: ProgressCounter
    private let name: String
    private let mode: ProgressMode
    private let startNanos = DispatchTime.now().uptimeNanoseconds
    private var timer: DispatchSourceTimer?

    init(name: String, total: Int?, mode: ProgressMode) {
        self.name = name
        self.mode = mode
        counter = ProgressCounter(total: total)
    }

    func start() {
        guard mode != .off else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "llmperf.progress"))
        let interval: DispatchTimeInterval = mode == .live ? .milliseconds(250) : .seconds(5)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.draw() }
        timer.resume()
        self.timer = timer
    }

    func finish() {
        timer?.cancel()
        timer = nil
        if mode == .live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func draw() {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - startNanos) / 1e9
        let line = ProgressLine.render(counter.snapshot(elapsedSeconds: elapsed), name: name)
        FileHandle.standardError.write(Data((mode == .live ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }
}

/// What stops a run early: Ctrl-C in the executable, a flag in tests.
public protocol Interrupts: AnyObject, Sendable {
    var interrupted: Bool { get }
    /// What to do on the next interruption (replaces the previous action; runs at once when
    /// already interrupted).
    func onInterrupt(_ action: @escaping @Sendable () -> Void)
}

/// Ctrl-C while measuring: the first stops the run gracefully (everything measured is kept),
/// a second one exits at once.
public final class InterruptHandler: Interrupts, @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let lock = NSLock()
    private var count = 0
    private var action: (@Sendable () -> Void)?

    public init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "llmperf.sigint"))
        source.setEventHandler { [weak self] in self?.fire() }
        source.resume()
    }

    public var interrupted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return count > 0
    }

    public func onInterrupt(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        self.action = action
        let already = count > 0
        lock.unlock()
        if already { action() }
    }

    private func fire() {
        lock.lock()
        count += 1
        let n = count
        let action = action
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
