import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `llmperf sweep` through the built executable against the bundled server of known capacity
/// (`--max-running 2 --itl-per-running-ms 5`, itl 10 ms): TPOT is 10 + 5·min(c, 2) ms, so an slo of
/// tpot.p50 ≤ 17 ms holds at concurrency 1 only, and past 2 requests/s stop growing.
@Suite struct SweepCommandTests {
    static let yaml = """
        version: 1
        name: curve
        target:
          backend: local
          engine: synthetic
          options: { ttft-ms: 20, itl-ms: 10, max-running: 2, itl-per-running-ms: 5 }
        workload:
          prompts: ["ping"]
          max_tokens: 8
        load: { concurrency: 1, requests: 8, warmup: 0 }
        slo:
          tpot.p50: 17ms
          error_rate: 0%
        """

    @Test func theCurveItsCapacityAndTheRuleThatBrokeIt() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("curve.yml", Self.yaml)
        let result = try LLMPerfProcess.run(
            ["sweep", path, "--concurrency", "1,2,4", "--json", "--quiet", "--label", "nightly", "--db", ws.database],
            timeout: 240)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let points = try #require(json["points"] as? [[String: Any]])
        #expect(points.map { $0["variant"] as? String } == ["c1", "c2", "c4"])
        #expect(points.map { $0["load"] as? Double } == [1, 2, 4])
        let verdicts = points.map {
            (($0["slo"] as? [String: Any])?["rules"] as? [[String: Any]])?.map { $0["verdict"] as? String }
        }
        #expect(verdicts == [["met", "met"], ["missed", "met"], ["missed", "met"]], "\(verdicts)")
        let tpot = points.compactMap { ($0["tpot"] as? [String: Any])?["p50"] as? Double }
        // The server's pace, measured by the client: 15 ms alone; 20 while two generate, so more at c2 and c4
        // (not exactly 20: the ends of the run, and the client turning a request round at c2, have one alone).
        // Without --itl-per-running-ms all three would be 10.
        #expect(tpot.count == 3, "\(tpot)")
        #expect(tpot[0] > 14 && tpot[0] < 16 && tpot[1] > tpot[0] + 2 && tpot[2] > tpot[0] + 2, "\(tpot)")
        #expect(points.map { $0["saturated"] as? Bool } == [false, false, true])
        #expect((json["capacity"] as? [String: Any])?["variant"] as? String == "c1")
        #expect((json["first_bad"] as? [String: Any])?["variant"] as? String == "c2")
        #expect(json["binding"] as? String == "slo")
        #expect((json["binding_reasons"] as? [String])?.first?.hasPrefix("tpot.p50") == true)
        // The client's own load is measured at each point: a few percent of a core here.
        let cpu = points.compactMap { ($0["client"] as? [String: Any])?["cpu_s"] as? Double }
        #expect(cpu.count == 3 && points.allSatisfy { ($0["client_bottleneck"] as? [String])?.isEmpty == true })
        let sweep = try #require(json["sweep"] as? [String: Any])
        #expect(sweep["status"] as? String == "completed" && sweep["search"] as? String == "points")

        // Each point is a stored run, one batch, labelled sweep and nightly, at its own load.
        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns().sorted { $0.startedAt < $1.startedAt }
        #expect(runs.map(\.variant) == ["c1", "c2", "c4"])
        #expect(Set(runs.map(\.batchID)).count == 1 && runs.map(\.batchID).first == sweep["batch_id"] as? String)
        #expect(runs.allSatisfy { Set($0.labels) == ["sweep", "nightly"] })
        #expect(runs.map(\.id) == points.map { $0["run_id"] as? String })
        #expect(try runs.map { try store.traces(runID: $0.id).count } == [8, 8, 8])
        #expect(runs.allSatisfy { ($0.clientLoad?.wallSeconds ?? 0) > 0 })
        #expect(try store.sweepRecords().map(\.batchID) == [sweep["batch_id"] as? String])

        // Read back by reference: gated on its capacity, reported as CSV, compared with a second sweep.
        let gate = try LLMPerfProcess.run(
            [
                "gate", "sweep:curve@latest", "--rule", "capacity.concurrency >= 1", "--rule",
                "capacity.requests_per_s >= 1000", "--db", ws.database,
            ])
        #expect(gate.status == 3, "\(gate.stdout)\(gate.stderr)")
        #expect(gate.stdout.contains("capacity.concurrency >= 1") && gate.stdout.contains("pass"), "\(gate.stdout)")
        #expect(gate.stdout.contains("gate failed: 1 of 2 rules"), "\(gate.stdout)")
        let passing = try LLMPerfProcess.run(
            ["gate", "sweep:curve", "--rule", "capacity.concurrency >= 1", "--db", ws.database])
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
        let csv = try LLMPerfProcess.run(["report", "sweep:curve@latest", "--format", "csv", "--db", ws.database])
        let rows = csv.stdout.split(separator: "\r\n").map(String.init)
        #expect(
            csv.status == 0 && rows.count == 4 && rows[1].contains(",c1,") && rows[1].hasSuffix(",capacity"), "\(rows)")
        let second = try LLMPerfProcess.run(
            ["sweep", path, "--concurrency", "1,2", "--quiet", "--db", ws.database], timeout: 240)
        #expect(second.status == 0, "\(second.stderr)")
        let compare = try LLMPerfProcess.run(
            ["compare", "sweep:curve~1", "sweep:curve@latest", "--format", "json", "--db", ws.database])
        let comparison = try #require(
            try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any], "\(compare.stderr)")
        let compared = try #require(comparison["rows"] as? [[String: Any]])
        #expect(
            compared.map { $0["variant"] as? String } == ["c1", "c2"] && comparison["unmatched"] as? [String] == ["c4"])
        let html = ws.root.appendingPathComponent("curve.html").path
        let report = try LLMPerfProcess.run(
            ["report", "sweep:curve~1", "sweep:curve@latest", "-o", html, "--db", ws.database])
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for chart in ["sweep-ttft", "sweep-tpot", "sweep-throughput", "sweep-frontier"] {
            #expect(page.contains("data-chart=\"\(chart)\""), "\(chart)")
        }
        #expect(page.contains("capacity 1. ") && page.contains("capacity 2. "))
    }

    /// A server whose capacity under the slo is known in closed form: at most 16 answers generate at once and
    /// each token takes 10 + 5·(answers generating) ms, so TPOT at concurrency c ≤ 16 is 10 + 5c: 40 ms at c6,
    /// 45 ms at c7. Under `tpot.p50 <= 42ms` the capacity is 6.
    @Test func findCapacityFindsTheKnownCapacityWithinOneStep() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let yaml = Self.yaml.replacingOccurrences(of: "max-running: 2", with: "max-running: 16")
            .replacingOccurrences(of: "tpot.p50: 17ms", with: "tpot.p50: 42ms")
        let path = try ws.write("known.yml", yaml)
        let result = try LLMPerfProcess.run(
            [
                "sweep", path, "--find-capacity", "--max", "16", "--requests", "12", "--json", "--quiet", "--db",
                ws.database,
            ],
            timeout: 300)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let points = try #require(json["points"] as? [[String: Any]])
        let capacity = try #require((json["capacity"] as? [String: Any])?["load"] as? Double, "\(result.stdout)")
        let bad = try #require((json["first_bad"] as? [String: Any])?["load"] as? Double)
        #expect(abs(capacity - 6) <= 1 && bad == capacity + 1, "capacity \(capacity), first bad \(bad)")
        #expect(json["binding"] as? String == "slo")
        #expect((json["sweep"] as? [String: Any])?["stop_reason"] as? String == "resolved")
        // Doubling to 8, then bisecting: at most 2·log2(16/1) + 3 points.
        #expect(points.count <= 11, "\(points.map { $0["variant"] ?? "" })")
    }

    /// Past the server's 2 answers at once, more concurrency only queues: with a lenient slo the search stops
    /// at the saturation, at 2.
    @Test func findCapacityDetectsSaturationPastTheServersSlots() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("slots.yml", Self.yaml.replacingOccurrences(of: "tpot.p50: 17ms", with: "tpot.p50: 1s"))
        let result = try LLMPerfProcess.run(
            ["sweep", path, "--find-capacity", "--max", "8", "--requests", "12", "--quiet", "--db", ws.database],
            timeout: 300)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        #expect(result.stdout.contains("capacity: c2,"), "\(result.stdout)")
        #expect(result.stdout.contains("bound by saturation: at c3"), "\(result.stdout)")
    }

    /// A client held to a small share of the CPU (stopped 40 ms in every 50, as a container's CPU quota
    /// throttles it) is flagged at the first point, and the search stops there, blaming the client, not the
    /// server (which runs in its own process, unthrottled).
    @Test func aClientStarvedOfCPUIsFlaggedNotBlamedOnTheServer() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("curve.yml", Self.yaml)
        let running = try LLMPerfProcess.start(
            [
                "sweep", path, "--find-capacity", "--max", "8", "--requests", "8", "--json", "--quiet", "--db",
                ws.database,
            ])
        let pid = running.process.processIdentifier
        let throttle = Thread {
            while running.process.isRunning {
                kill(pid, SIGSTOP)
                Thread.sleep(forTimeInterval: 0.040)
                kill(pid, SIGCONT)
                Thread.sleep(forTimeInterval: 0.010)
            }
        }
        throttle.start()
        let result = try running.wait(timeout: 300)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(json["binding"] as? String == "client", "\(result.stdout)")
        #expect((json["sweep"] as? [String: Any])?["stop_reason"] as? String == "client_bound")
        let reasons = try #require(json["binding_reasons"] as? [String])
        #expect(reasons.contains { $0.hasPrefix("client schedule lag p99") }, "\(reasons)")
        #expect((json["points"] as? [[String: Any]])?.count == 1)
    }

    /// Ctrl-C during the second point: the first stays a point of the stored sweep, which is marked
    /// interrupted; the cut run is stored but is not a point.
    @Test func ctrlCKeepsTheFinishedPointsAndMarksTheSweepInterrupted() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("curve.yml", Self.yaml)
        let running = try LLMPerfProcess.start(
            ["sweep", path, "--concurrency", "1,2", "--requests", "40", "--quiet", "--db", ws.database])
        // The first point takes about 6 s (40 requests of 140 ms), the second about 4 s: Ctrl-C one second
        // into the second.
        let deadline = Date().addingTimeInterval(240)
        while !running.stderrSoFar.contains("sweep point c1") && Date() < deadline && running.process.isRunning {
            Thread.sleep(forTimeInterval: 0.2)
        }
        Thread.sleep(forTimeInterval: 1.0)
        running.interrupt()
        let result = try running.wait(timeout: 60)
        #expect(result.status == 130, "exit \(result.status)\n\(result.stderr)")
        #expect(result.stderr.contains("sweep interrupted; the points measured are stored"), "\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let record = try #require(try store.sweepRecords().first)
        #expect(record.status == .interrupted)
        let runs = try store.runs(inBatch: record.batchID)
        #expect(runs.map(\.variant) == ["c1", "c2"] && runs.map(\.status) == [.completed, .interrupted])
        let csv = try LLMPerfProcess.run(["report", "sweep:curve", "--format", "csv", "--db", ws.database])
        let rows = csv.stdout.split(separator: "\r\n")
        #expect(csv.status == 0 && rows.count == 2 && rows[1].contains(",c1,"), "\(csv.stdout)\(csv.stderr)")
    }

    @Test func badPointsAndScenariosAreRefusedBeforeAnythingRuns() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("curve.yml", Self.yaml)
        let cases: [([String], String)] = [
            (["--concurrency", "4,2"], "the points must rise"),
            (["--concurrency", "1,x"], "'x' is not a positive number"),
            (["--rate", "0,1/s"], "'0' is not a positive number"),
            ([], "give the points"),
            (["--find-capacity", "--concurrency", "1"], "chooses the points itself"),
            (["--find-capacity", "--over", "concurrency", "--min", "8", "--max", "4"], "is below --min"),
            (["--find-capacity", "--over", "rate", "--resolution", "x"], "--resolution: expected a rate"),
            (["--concurrency", "1", "--max", "4"], "belong to --find-capacity"),
            (["--concurrency", "1", "--requests", "2", "--duration", "1s"], "not both"),
            (["--rate", "1/s", "--concurrency", "1"], "give one"),
        ]
        for (arguments, message) in cases {
            let result = try LLMPerfProcess.run(["sweep", path, "--db", ws.database] + arguments)
            #expect(result.status == 2 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let variants = try ws.write("variants.yml", Self.yaml + "\nvariants:\n  a: {}\n  b: {}\n")
        let refused = try LLMPerfProcess.run(["sweep", variants, "--concurrency", "1", "--db", ws.database])
        #expect(refused.status == 2 && refused.stderr.contains("has 2 variants"), "\(refused.stderr)")
        // Nothing was measured: no run stored.
        if FileManager.default.fileExists(atPath: ws.database) {
            #expect(try RunStore(path: ws.database).listRuns().isEmpty)
        }
    }
}
