import Foundation
import Testing

@testable import LLMPerfCore

/// `target.metrics`: the forms it takes and the errors it gives, with their positions.
@Suite struct MetricsScrapeSpecTests {
    static func target(_ target: String) throws -> TargetSpec {
        let yaml = """
            version: 1
            name: scrape
            target:
            \(target.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            workload: { prompts: ["hi"] }
            load: { concurrency: 1, requests: 1 }
            """
        return try #require(try ScenarioLoader.load(yaml: yaml, path: "s.yml", environment: [:]).runs.first).target
    }

    static func error(_ target: String) -> String {
        do {
            _ = try Self.target(target)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func theFormsItTakes() throws {
        let remote = "url: http://10.0.0.5:8000/v1\nmodel: m\n"
        #expect(
            try Self.target(remote + "metrics: http://10.0.0.5:8000/metrics").metrics
                == MetricsScrapeSpec(url: "http://10.0.0.5:8000/metrics"))
        let mapped = try #require(
            try Self.target(remote + "metrics: { url: 'http://10.0.0.5:8000/metrics', interval: 250ms }").metrics)
        #expect(mapped.url == "http://10.0.0.5:8000/metrics" && mapped.interval == .milliseconds(250))
        #expect(mapped.timeoutMilliseconds == 250)
        // A local backend scrapes its own /metrics (no URL).
        let local = "backend: local\nengine: synthetic\n"
        #expect(try Self.target(local + "metrics: true").metrics == MetricsScrapeSpec())
        #expect(try Self.target(local + "metrics: { interval: 2s }").metrics?.interval == .seconds(2))
        #expect(try Self.target(local).metrics == nil)
        #expect(MetricsScrapeSpec(interval: .seconds(30)).timeoutMilliseconds == 5_000)
    }

    @Test func errorsNameTheLineAndWhatWasExpected() {
        let remote = "url: http://10.0.0.5:8000/v1\nmodel: m\n"
        #expect(Self.error(remote + "metrics: true").contains("target.metrics"))
        #expect(
            Self.error(remote + "metrics: true").contains("the server's metrics URL"),
            "\(Self.error(remote + "metrics: true"))")
        #expect(Self.error(remote + "metrics: { interval: 1s }").contains("url"))
        #expect(Self.error(remote + "metrics: ftp://x/metrics").contains("expected an http or https URL"))
        let tooFast = Self.error(remote + "metrics: { url: 'http://x:1/metrics', interval: 10ms }")
        #expect(tooFast.contains("at least 100ms") && tooFast.contains("s.yml:6:"), "\(tooFast)")
        #expect(Self.error(remote + "metrics: { url: 'http://x:1/metrics', every: 1s }").contains("every"))
    }
}
