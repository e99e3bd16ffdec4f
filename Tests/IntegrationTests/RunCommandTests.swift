import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `llmperf run` through the built executable against the bundled synthetic backend, which
/// it starts itself as a child process on an ephemeral 127.0.0.1 port. Serialized: each test
/// measures timing, so they should not compete with each other for the two cores.
@Suite(.serialized) struct RunCommandTests {
    static func scenario(
        name: String = "it", ttftMs: Int = 50, itlMs: Int = 10, tokens: Int = 12, tls: Bool = false,
        connection: String = "reuse", concurrency: Int = 4, requests: Int = 16, warmup: Int = 2, extra: String = ""
    ) -> String {
        """
        version: 1
        name: \(name)
        target:
          backend: local
          engine: synthetic
          tls: \(tls)
          connection: \(connection)
          options: { ttft-ms: \(ttftMs), itl-ms: \(itlMs), tokens: \(tokens) }
        workload:
          prompts: ["Say something.", "Say something else."]
          max_tokens: \(tokens)
        load:
          concurrency: \(concurrency)
          requests: \(requests)
          warmup: \(warmup)
        \(extra)
        """
    }

    @Test func httpRunMeasuresTheConfiguredTimingsAndStoresEveryRequest() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        // The backend writes its own send times: the client's numbers are checked against them,
        // not against wall-clock windows a loaded machine can break.
        let tracePath = ws.root.appendingPathComponent("server-trace.tsv").path
        var scenario = Self.scenario()
        scenario = scenario.replacingOccurrences(
            of: "tokens: 12 }", with: "tokens: 12, trace-file: \"\(tracePath)\" }")
        let path = try ws.write("s.yml", scenario)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet", "--label", "it-label"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ttft"))
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        #expect(run.status == .completed)
        #expect(run.labels == ["it-label"])
        #expect(run.targetURL.hasPrefix("http://127.0.0.1:"))
        let traces = try store.traces(runID: run.id)
        #expect(traces.count == 18)
        #expect(traces.filter(\.isWarmup).count == 2)
        #expect(traces.allSatisfy { $0.succeeded })
        #expect(traces.allSatisfy { $0.outputTokens == 12 && $0.outputTokenSource == .usage })
        #expect(traces.allSatisfy { $0.chunkAtNanos.count == 12 })
        let summary = RunSummary(traces: traces)
        let ttft = try #require(summary.metrics[.ttft]?.p50)
        let itl = try #require(summary.metrics[.itl]?.p50)
        let server = try ServerTrace(parsing: try String(contentsOfFile: tracePath, encoding: .utf8))
        #expect(server.requests.count == 18)
        var serverTTFT: [Double] = []
        var serverGaps: [Double] = []
        for request in server.requests.values {
            let arrival = try #require(request.arrivalNanos)
            let first = try #require(request.tokenNanos.first)
            serverTTFT.append(Double(first - arrival) / 1e6)
            serverGaps += zip(request.tokenNanos.dropFirst(), request.tokenNanos).map { Double($0 - $1) / 1e6 }
        }
        let serverTTFTp50 = try #require(DistributionSummary(serverTTFT)?.p50)
        let serverITLp50 = try #require(DistributionSummary(serverGaps)?.p50)
        // The server waited 50 ms before each first token, and paced tokens about 10 ms apart (on a
        // schedule: a late token is followed by a sooner one).
        #expect(serverTTFTp50 >= 50 && serverITLp50 > 5, "server ttft p50 \(serverTTFTp50), itl p50 \(serverITLp50)")
        // Each client TTFT spans the server's 50 ms (sent before arrival, received after the send);
        // the client adds little on top of what the server took.
        #expect(ttft >= 50 && ttft < serverTTFTp50 + 50, "ttft p50 \(ttft), server \(serverTTFTp50)")
        #expect(abs(itl - serverITLp50) < 5, "itl p50 \(itl), server \(serverITLp50)")
        // Plain HTTP: no TLS time anywhere; reused connections paid no connect.
        #expect(traces.allSatisfy { $0.tlsNanos == 0 })
        let reused = traces.filter(\.connection.reused)
        #expect(!reused.isEmpty)
        #expect(reused.allSatisfy { $0.connectNanos == 0 && $0.dnsNanos == 0 })
        let fresh = traces.filter { !$0.connection.reused }
        #expect(fresh.count <= 4 + 2)  // at most one new connection per worker (warmup + measured)
        #expect(fresh.allSatisfy { $0.connectNanos > 0 })
    }

    @Test func httpsWithNewConnectionsPaysTCPAndTLSEveryTime() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml", Self.scenario(ttftMs: 5, itlMs: 1, tls: true, connection: "new", requests: 8, warmup: 0))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        #expect(run.targetURL.hasPrefix("https://"))
        let traces = try store.traces(runID: run.id)
        #expect(traces.count == 8)
        #expect(traces.allSatisfy { $0.succeeded && !$0.connection.reused })
        #expect(traces.allSatisfy { $0.connectNanos > 0 && $0.tlsNanos > $0.connectNanos })
        let summary = RunSummary(traces: traces)
        #expect(try #require(summary.metrics[.tls]?.min) > 0)
    }

    @Test func httpsWithReusedConnectionsPaysTLSOncePerConnection() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml", Self.scenario(ttftMs: 5, itlMs: 1, tls: true, concurrency: 2, requests: 10, warmup: 0))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let store = try RunStore(path: ws.database)
        let traces = try store.traces(runID: try #require(try store.listRuns().first).id)
        let fresh = traces.filter { !$0.connection.reused }
        #expect(fresh.count >= 1 && fresh.count <= 2)
        #expect(fresh.allSatisfy { $0.tlsNanos > 0 })
        #expect(traces.filter(\.connection.reused).allSatisfy { $0.tlsNanos == 0 && $0.connectNanos == 0 })
    }

    @Test func variantsAreSeparateRunsShownSideBySide() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let variants = """
            variants:
              short: { workload: { max_tokens: 4 } }
              long: { workload: { max_tokens: 8 } }
            """
        let path = try ws.write(
            "s.yml", Self.scenario(ttftMs: 5, itlMs: 1, requests: 6, warmup: 0, extra: variants))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("variants side by side"))
        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns()
        #expect(Set(runs.map(\.variant)) == ["short", "long"])
        #expect(Set(runs.map(\.batchID)).count == 1)
        #expect(runs[0].id != runs[1].id)
        for run in runs {
            let expected = run.variant == "short" ? 4 : 8
            #expect(try store.traces(runID: run.id).allSatisfy { $0.outputTokens == expected })
        }
    }

    @Test func jsonSummaryAndRunsCommands() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write("s.yml", Self.scenario(ttftMs: 2, itlMs: 1, requests: 5, warmup: 0))
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["succeeded"] as? Int == 5)
        let metrics = try #require(json["metrics"] as? [String: Any])
        #expect(metrics["ttft"] != nil && metrics["tpot"] != nil)
        let run = try #require(json["run"] as? [String: Any])
        let id = try #require(run["id"] as? String)

        let list = try LLMPerfProcess.run(["runs", "list", "--db", ws.database])
        #expect(list.status == 0 && list.stdout.contains(id))
        let show = try LLMPerfProcess.run(["runs", "show", "it@latest", "--db", ws.database])
        #expect(show.status == 0 && show.stdout.contains(id) && show.stdout.contains("ttft"))
        let unknown = try LLMPerfProcess.run(["runs", "show", "nope@latest", "--db", ws.database])
        #expect(unknown.status == 2)
    }
}
