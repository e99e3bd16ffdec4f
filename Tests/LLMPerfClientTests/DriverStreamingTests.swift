import Testing

@testable import LLMPerfClient
@testable import LLMPerfCore

/// The driver hands each trace on and keeps none (`llmperf run`'s memory must not grow with
/// the number of requests; `RunMemoryTests` measures it through the executable).
@Suite struct DriverStreamingTests {
    @Test func streamHandsEveryTraceOnAndCountsThem() async throws {
        let server = try ScriptedServer { _ in Scripts.chatStream(tokens: 2) }
        defer { server.stop() }
        let driver = LoadDriver(
            config: TestTransport.config(server.url),
            workload: WorkloadSpec(prompts: [Prompt(user: "a")], maxTokens: 2),
            model: "m", load: LoadSpec(shape: .closed(concurrency: 4), stop: .requests(40), warmup: 3))
        let seen = LockedCounter()
        let finished = await driver.stream { trace in
            if trace.succeeded { seen.increment() }
        }
        #expect(finished == 43)
        #expect(seen.value == 43)
    }

    /// Structural: the driver's state machine keeps no trace (a growing collection of them is
    /// what made a long run's memory grow); it counts them and hands each on.
    @Test func driverStateHoldsNoTraces() {
        var machine = DriverStateMachine(
            configuration: .init(
                load: LoadSpec(shape: .closed(concurrency: 1), stop: .requests(1)), promptCount: 1, grace: .zero),
            pacer: ClosedLoopPacer(concurrency: 1))
        _ = machine.handle(.started, now: 0)
        #expect(machine.finishedCount == 0)
        let children = Mirror(reflecting: machine).children
        #expect(children.contains { $0.label == "finishedCount" })
        for child in children {
            let type = String(reflecting: Swift.type(of: child.value))
            #expect(!type.contains("RequestTrace"), "DriverStateMachine.\(child.label ?? "?") is a \(type)")
        }
    }
}
