import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `llmperf run` and `sweep` with `--metrics-listen`: the client's live metrics scraped while the run goes, and
/// what they add up to once it ends compared with what the run stored. Serialized, like the other run tests.
@Suite(.serialized) struct MetricsListenTests {
    /// A command serving its metrics on a free port, the URL it printed, and a line for each scrape (to say
    /// what the scrapes saw when a test fails).
    final class Serving {
        let process: LLMPerfProcess.Running
        let url: String
        private(set) var log: [String] = []

        init(process: LLMPerfProcess.Running, url: String) {
            self.process = process
            self.url = url
        }

        static func start(_ arguments: [String]) throws -> Serving {
            let process = try LLMPerfProcess.start(
                arguments + ["--quiet", "--metrics-listen", "127.0.0.1:0", "--metrics-linger", "3s"])
            for _ in 0..<1200 {
                if let line = process.stderrSoFar.split(separator: "\n").first(where: {
                    $0.hasPrefix("llmperf: live metrics at ")
                }) {
                    return Serving(process: process, url: String(line.dropFirst("llmperf: live metrics at ".count)))
                }
                if !process.process.isRunning { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            let result = try process.wait(timeout: 10)
            throw NoMetricsURL(stderr: result.stderr)
        }

        struct NoMetricsURL: Error, CustomStringConvertible {
            var stderr: String
            var description: String { "no 'live metrics at' line; stderr:\n\(stderr)" }
        }

        /// Scrapes every 20 ms (blocking this thread, see `ExpositionText.fetch`) until `done` says the scrape is the last one wanted (returns it), or the command
        /// ends; `each` sees every scrape.
        func poll(
            until done: (ExpositionText) -> Bool, each: (ExpositionText) -> Void = { _ in }
        ) -> ExpositionText? {
            let start = Date()
            while Date().timeIntervalSince(start) < 180 {
                let asked = Date()
                let fetched = ExpositionText.fetch(url)
                let at = String(
                    format: "%.2f s (%.0f ms)", asked.timeIntervalSince(start), -asked.timeIntervalSinceNow * 1000)
                switch fetched {
                case .success(let scrape):
                    log.append(
                        "\(at): active \(scrape.value("llmperf_client_run_active") ?? -1), ended "
                            + "\(scrape.value("llmperf_client_requests_total") ?? -1)")
                    each(scrape)
                    if done(scrape) { return scrape }
                case .failure(let error):
                    log.append("\(at): \(error)")
                    if !process.process.isRunning { return nil }
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return nil
        }

        /// The scrapes, and what the command wrote on standard error.
        var story: String {
            "scrapes:\n" + log.suffix(60).joined(separator: "\n") + "\nstderr:\n" + process.stderrSoFar
        }
    }

    /// The requests each stored run measured (warmup left out), and its warmup.
    static func stored(_ database: String) throws -> (runs: [RunInfo], measured: [RequestTrace], warmup: [RequestTrace])
    {
        let store = try RunStore(path: database)
        let runs = try store.listRuns()
        var traces: [RequestTrace] = []
        for run in runs { traces += try store.traces(runID: run.id) }
        return (runs, traces.filter { !$0.isWarmup }, traces.filter(\.isWarmup))
    }

    /// The final scrape adds up to the stored requests: counts by outcome, tokens, each histogram's count (the ok
    /// requests, or their gaps) and the TTFT sum.
    static func expectTotals(
        _ last: ExpositionText, measured: [RequestTrace], warmup: [RequestTrace],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let ok = measured.filter(\.succeeded)
        #expect(
            last.value("llmperf_client_requests_sent_total") == Double(measured.count), sourceLocation: sourceLocation)
        #expect(last.value("llmperf_client_requests_total") == Double(measured.count), sourceLocation: sourceLocation)
        #expect(
            last.value("llmperf_client_requests_total", ["outcome": "ok"]) == Double(ok.count),
            sourceLocation: sourceLocation)
        #expect(last.value("llmperf_client_requests_in_flight") == 0, sourceLocation: sourceLocation)
        #expect(
            last.value("llmperf_client_warmup_requests_total") == Double(warmup.count), sourceLocation: sourceLocation)
        #expect(
            last.value("llmperf_client_output_tokens_total") == Double(measured.reduce(0) { $0 + $1.outputTokens }),
            sourceLocation: sourceLocation)
        for (name, metric) in [
            ("time_to_first_token", Metric.ttft), ("time_per_output_token", .tpot), ("e2e_request_latency", .e2e),
            ("inter_token_latency", .itl),
        ] {
            let samples = ok.reduce(0) { $0 + metric.samples(of: $1).count }
            #expect(
                last.value("llmperf_client_\(name)_seconds_count") == Double(samples), "\(name)",
                sourceLocation: sourceLocation)
            #expect(
                last.value("llmperf_client_\(name)_seconds_bucket", ["le": "+Inf"]) == Double(samples), "\(name)",
                sourceLocation: sourceLocation)
        }
        #expect(
            last.value("llmperf_client_time_to_first_token_seconds_count") == Double(ok.count),
            sourceLocation: sourceLocation)
        let ttftSum = ok.reduce(0.0) { $0 + (Metric.ttft.value(of: $1) ?? 0) / 1000 }
        let scrapedSum = last.value("llmperf_client_time_to_first_token_seconds_sum") ?? -1
        #expect(
            abs(scrapedSum - ttftSum) < 1e-6, "ttft sum \(scrapedSum), stored \(ttftSum)",
            sourceLocation: sourceLocation)
    }

    @Test func aRunIsScrapedWhileItGoesAndItsLastScrapeMatchesWhatItStored() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let requests = 80
        let path = try ws.write(
            "s.yml",
            RunCommandTests.scenario(
                name: "live", ttftMs: 20, itlMs: 10, tokens: 8, concurrency: 4, requests: requests, warmup: 2))
        let serving = try Serving.start(["run", path, "--db", ws.database])
        var midRun: ExpositionText?
        var mostInFlight = 0.0
        let last = serving.poll(
            until: { $0.value("llmperf_client_run_active") == 0 && $0.value("llmperf_client_run_info") == 1 },
            each: { scrape in
                mostInFlight = max(mostInFlight, scrape.value("llmperf_client_requests_in_flight") ?? 0)
                if midRun == nil, scrape.value("llmperf_client_run_active") == 1,
                    (scrape.value("llmperf_client_requests_total") ?? 0) > 0
                {
                    midRun = scrape
                }
            })
        let story = serving.story
        let result = try serving.process.wait(timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let going = try #require(midRun, "no scrape saw requests counted while the run was going; \(story)")
        #expect((going.value("llmperf_client_requests_total") ?? 0) < Double(requests))
        #expect(mostInFlight >= 1 && mostInFlight <= 4, "in flight up to \(mostInFlight) at concurrency 4")
        let final = try #require(last, "no scrape after the run ended; \(story)")
        let (runs, measured, warmup) = try Self.stored(ws.database)
        let run = try #require(runs.first)
        #expect(runs.count == 1 && measured.count == requests && warmup.count == 2)
        #expect(final.value("llmperf_client_run_info", ["run_id": run.id, "name": "live"]) == 1)
        Self.expectTotals(final, measured: measured, warmup: warmup)
    }

    @Test func aSweepIsWatchedPointByPointAndItsCountersAddUpOverThePoints() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml", RunCommandTests.scenario(name: "live-sweep", ttftMs: 20, itlMs: 10, tokens: 6, warmup: 1))
        let serving = try Serving.start([
            "sweep", path, "--db", ws.database, "--concurrency", "1,2", "--requests", "8",
        ])
        var runIDs: Set<String> = []
        let last = serving.poll(
            until: {
                $0.value("llmperf_client_run_active") == 0 && $0.value("llmperf_client_requests_total") == 16
            },
            each: { scrape in
                for sample in scrape.samples where sample.name == "llmperf_client_run_info" {
                    if let id = sample.label("run_id") { runIDs.insert(id) }
                }
            })
        let story = serving.story
        let result = try serving.process.wait(timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let final = try #require(last, "no scrape after the last point ended; \(story)")
        let (runs, measured, warmup) = try Self.stored(ws.database)
        #expect(runs.count == 2 && measured.count == 16)
        #expect(runIDs == Set(runs.map(\.id)), "run_info named \(runIDs), the sweep stored \(runs.map(\.id))")
        let lastPoint = try #require(runs.first { $0.variant == "c2" })
        #expect(final.value("llmperf_client_run_info", ["run_id": lastPoint.id, "variant": "c2"]) == 1)
        Self.expectTotals(final, measured: measured, warmup: warmup)
    }

    @Test func aBadAddressOrATakenPortIsAnErrorBeforeAnythingIsSent() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let server = try SyntheticServer.start()
        defer { server.stop() }
        let path = try ws.write(
            "s.yml",
            """
            version: 1
            name: not-sent
            target: { url: "\(server.baseURL)/v1", model: synthetic }
            workload: { prompts: ["hi"], max_tokens: 4 }
            load: { concurrency: 1, requests: 3 }
            """)
        let port = try #require(server.baseURL.split(separator: ":").last.map(String.init))
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (
                ["run", path, "--metrics-listen", "127.0.0.1:99999"], 2,
                "--metrics-listen '127.0.0.1:99999': the port must be a number from 0 to 65535"
            ),
            (["run", path, "--metrics-listen", "nonsense"], 2, "--metrics-listen 'nonsense': expected HOST:PORT"),
            (
                ["sweep", path, "--concurrency", "1", "--metrics-listen", "nonsense"], 2,
                "--metrics-listen 'nonsense': expected HOST:PORT"
            ),
            // The bundled server's own port is taken.
            (
                ["run", path, "--metrics-listen", "127.0.0.1:\(port)"], 1,
                "--metrics-listen 127.0.0.1:\(port): cannot listen there: address already in use"
            ),
            (
                ["sweep", path, "--concurrency", "1", "--metrics-listen", "127.0.0.1:\(port)"], 1,
                "cannot listen there: address already in use"
            ),
        ]
        for (arguments, status, message) in cases {
            let result = try LLMPerfProcess.run(arguments + ["--db", ws.database, "--quiet"])
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        // Nothing reached the server, and no run was stored.
        let metrics = try #require(ExpositionText.scrape(server.baseURL + "/metrics"))
        #expect(metrics.value("llmperf_requests_total", ["endpoint": "/v1/chat/completions"]) == nil)
        if FileManager.default.fileExists(atPath: ws.database) {
            #expect(try RunStore(path: ws.database).listRuns().isEmpty)
        }
    }
}
