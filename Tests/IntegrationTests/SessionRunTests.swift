import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Multi-turn sessions and cache hygiene through the built executable against the bundled server:
/// what is stored per turn, the "by turn" report, the transformer's prefix cache serving each
/// turn's history, `cache_bust` defeating that cache across runs, and the warning when a run that
/// shares nothing by design was served from a warm cache.
@Suite(.serialized) struct SessionRunTests {
    @Test func sessionsAreStoredAndReportedByTurn() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: sessions
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 5, itl-ms: 1 }
            workload:
              prompts: ["one two three", "four five six", "seven eight nine"]
              max_tokens: 6
              sessions: { turns: 3, think_time: 20ms }
            load: { concurrency: 2, requests: 6, warmup: 0 }
            """)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--json"], timeout: 240)
        #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let turns = try #require(json["turns"] as? [String: Any], "no turns in \(result.stdout)")
        #expect(turns["sessions"] as? Int == 2)
        let rows = try #require(turns["rows"] as? [[String: Any]])
        #expect(rows.map { $0["turn"] as? Int } == [1, 2, 3])
        #expect(rows.map { $0["requests"] as? Int } == [2, 2, 2])

        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        let traces = try store.traces(runID: run.id).sorted { $0.index < $1.index }
        #expect(traces.count == 6)
        #expect(traces.allSatisfy { $0.succeeded })
        for session in 0..<2 {
            let own = traces.filter { $0.session?.session == session }.sorted { $0.session!.turn < $1.session!.turn }
            #expect(own.map { $0.session!.turn } == [0, 1, 2], "session \(session)")
            // The history grows turn by turn: each earlier question (3 words, by the word rule) and
            // its 6-token answer.
            let exchange = TokenEstimate.words("one two three") + 6
            #expect(own.map(\.historyTokens) == [0, exchange, 2 * exchange], "session \(session)")
            // The server counted a longer prompt each turn.
            let prompts = own.compactMap(\.inputTokens)
            #expect(prompts.count == 3 && prompts[0] < prompts[1] && prompts[1] < prompts[2], "\(prompts)")
        }
        let shown = try LLMPerfProcess.run(["runs", "show", run.id, "--db", ws.database])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("by turn (2 sessions)"), "\(shown.stdout)")
    }

    /// One transformer server (release build, the default model) for several runs, so that what one
    /// run leaves in its prefix cache is there for the next.
    @Test func thePrefixCacheServesHistoryAndCacheBustDefeatsItAcrossRuns() async throws {
        let binary = try LLMPerfProcess.releaseBinary()
        let server = try LLMPerfProcess.start(
            ["serve", "--model", "default", "--host", "127.0.0.1", "--port", "0"], binary: binary)
        defer {
            server.interrupt()
            _ = try? server.wait(timeout: 30)
        }
        var base: String?
        let deadline = Date().addingTimeInterval(120)
        while base == nil && Date() < deadline && server.process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
            if let line = server.stdoutSoFar.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                base = String(line.dropFirst("listening on ".count))
            }
        }
        let url = try #require(base, "serve did not start: \(server.stderrSoFar)")
        // Listening comes before the model is loaded (503 until then): wait for /health.
        var ready = false
        for _ in 0..<1_200 where !ready {
            let (_, response) = try await URLSession.shared.data(from: URL(string: url + "/health")!)
            ready = (response as? HTTPURLResponse)?.statusCode == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "the model did not load: \(server.stderrSoFar)")
        let ws = try Workspace()
        defer { ws.remove() }
        // Long enough for several 32-token cache blocks, and distinct from their first words on, so
        // that nothing is shared by design (the server caches whole blocks from the prompt's start).
        let sentence =
            "describe in detail how a large language model server schedules many requests at once, how it "
            + "keeps the keys and values of every sequence in memory, and what it does when that memory runs out"
        func scenario(_ name: String, bust: String, sessions: Bool) throws -> String {
            try ws.write(
                name + ".yml",
                """
                version: 1
                name: \(name)
                target: { url: "\(url)/v1", model: default }
                workload:
                  prompts: ["Part one: \(sentence).", "Second part: \(sentence), and what it costs."]
                  max_tokens: 4
                  temperature: 0
                  cache_bust: \(bust)
                \(sessions ? "  sessions: { turns: 3 }" : "")
                load: { concurrency: 1, requests: \(sessions ? 6 : 2), warmup: 0 }
                """)
        }
        func run(_ path: String) throws -> (summary: [String: Any], stderr: String) {
            let result = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--json"], timeout: 600)
            #expect(result.status == 0, "exit \(result.status)\n\(result.stderr)")
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
            return (json, result.stderr)
        }
        func cached(_ json: [String: Any]) -> Int? { (json["promptCache"] as? [String: Any])?["cachedTokens"] as? Int }

        // Sessions: every later turn's prompt starts with the turn before, which the cache holds.
        let sessionRun = try run(try scenario("sessions", bust: "per_run", sessions: true))
        let rows = try #require((sessionRun.summary["turns"] as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(rows.count == 3)
        for row in rows.dropFirst() {
            // Each of the turn's requests found at least one block of its history cached.
            let requests = row["requests"] as? Int ?? 0
            #expect(requests == 2 && (row["cachedPromptTokens"] as? Int ?? 0) >= 32 * requests, "\(row)")
        }
        // Sessions share by design: no warning.
        #expect(!sessionRun.stderr.contains("prefix cache"), "\(sessionRun.stderr)")

        // The same distinct prompts twice without cache busting: the second run is served from the cache
        // the first left, and says so.
        let plain = try scenario("plain", bust: "none", sessions: false)
        _ = try run(plain)
        let warm = try run(plain)
        #expect((cached(warm.summary) ?? 0) >= 32, "\(warm.summary)")
        #expect(warm.stderr.contains("served from the server's prefix cache"), "\(warm.stderr)")

        // With a nonce per run, a rerun finds nothing of the last run in the cache.
        let busted = try scenario("busted", bust: "per_run", sessions: false)
        _ = try run(busted)
        let cold = try run(busted)
        #expect(cached(cold.summary) == 0, "\(cold.summary)")
        #expect(!cold.stderr.contains("prefix cache"), "\(cold.stderr)")
    }
}
