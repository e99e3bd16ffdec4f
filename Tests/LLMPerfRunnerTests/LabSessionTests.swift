import Foundation
import LLMPerfCore
import LLMPerfReport
import Testing

@testable import LLMPerfRunner

/// Lab pairing over fakes: which variants run, one comparison per "before" variant with its
/// "after" variants as candidates, and one row per pair, in the order the pairs are listed.
@Suite struct LabSessionTests {
    static let yaml = """
        version: 1
        name: pairing
        target: { url: "http://127.0.0.1:9/v1", model: m }
        workload: { prompts: ["hi"], max_tokens: 4 }
        load: { concurrency: 1, requests: 12 }
        lab:
          optimization: caching
          moves: time to first token
          metric: ttft.p50
          side: client
          compare:
            - { before: plain, after: fast, label: "fast" }
            - { before: slow, after: fast, label: "slow to fast" }
            - { before: plain, after: slow, label: "slowed" }
        variants:
          plain: {}
          unused: {}
          slow: { workload: { max_tokens: 5 } }
          fast: { workload: { max_tokens: 6 } }
        """

    /// TTFT per variant: plain 20 ms, slow 40 ms, fast 5 ms.
    static let ttft: @Sendable (String?) -> UInt64 = { variant in
        switch variant {
        case "slow": return 40
        case "fast": return 5
        default: return 20
        }
    }

    static func labCase() throws -> LabCase {
        let document = try Harness.scenario(yaml)
        return LabCase(name: "pairing", document: document, spec: try #require(document.lab))
    }

    @Test func onlyTheComparedVariantsRunInFileOrderIntoOneBatch() async throws {
        let h = Harness()
        let session = LabSession(pipeline: h.pipeline(ttft: Self.ttft), labels: ["extra"], requests: 3, endpoint: nil)
        let result = await session.run(try Self.labCase())
        #expect(result.failure == nil)
        #expect(result.runs.map(\.info.variant) == ["plain", "slow", "fast"])
        #expect(result.runs.allSatisfy { $0.info.labels == ["lab", "lab-pairing", "extra"] })
        #expect(result.runs.allSatisfy { $0.info.batchID == "btest" && $0.traces.count == 3 })
        #expect(Set(h.log.all.compactMap(\.variant)) == ["plain", "slow", "fast"])
    }

    @Test func eachPairIsARowInListedOrderComparedWithItsOwnBaseline() async throws {
        let h = Harness()
        let session = LabSession(pipeline: h.pipeline(ttft: Self.ttft), labels: [], requests: nil, endpoint: nil)
        let result = await session.run(try Self.labCase())
        #expect(result.rows.map(\.before) == ["plain", "slow", "plain"])
        #expect(result.rows.map(\.after) == ["fast", "fast", "slow"])
        #expect(result.rows.map(\.optimization) == ["caching (fast)", "caching (slow to fast)", "caching (slowed)"])
        #expect(result.rows.map(\.beforeValue) == [20, 40, 20])
        #expect(result.rows.map(\.afterValue) == [5, 5, 40])
        #expect(result.rows.map(\.verdict) == [.better, .better, .worse])
        // One comparison per distinct baseline: plain (fast, slow), then slow (fast).
        #expect(result.comparisons.map { $0.comparisons.map(\.candidate) } == [["fast", "slow"], ["fast"]])
        // The variants differ on purpose: no "different workload" warning survives.
        let warnings = result.comparisons.flatMap { $0.comparisons.flatMap(\.warnings) }
        #expect(!warnings.contains { $0.kind == .workloadDiffers })
    }

    @Test func theSummaryNamesTheRunsOfEachRow() async throws {
        let h = Harness()
        let session = LabSession(pipeline: h.pipeline(ttft: Self.ttft), labels: [], requests: 3, endpoint: nil)
        let results = await session.run(cases: [try Self.labCase()])
        let (summary, error) = session.summary(of: results, skipped: ["other"])
        #expect(error == nil)
        let ids = Dictionary(uniqueKeysWithValues: results[0].runs.map { ($0.info.variant ?? "", $0.info.id) })
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(try summary.json().utf8)) as? [String: Any])
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.map { $0["before_run"] as? String } == [ids["plain"], ids["slow"], ids["plain"]])
        #expect(rows.map { $0["after_run"] as? String } == [ids["fast"], ids["fast"], ids["slow"]])
        #expect((json["runs"] as? [[String: Any]])?.count == 3)
        #expect(json["batch_id"] as? String == "btest")
        #expect(json["skipped"] as? [String] == ["other"])
        let text = summary.text(style: TerminalStyle(enabled: false))
        #expect(
            text.contains("Skipped (server-side: they need the bundled backend's switches, not an endpoint): other."))
        #expect(
            text.hasSuffix(
                "every run is stored in batch btest (labels lab, lab-NAME); "
                    + "llmperf compare BEFORE AFTER shows all metrics of a pair\n"))
    }

    @Test func aVariantThatCannotRunEndsTheCaseWithItsReason() async throws {
        let h = Harness()
        h.repository.sinkFailsAt = 2
        let session = LabSession(pipeline: h.pipeline(ttft: Self.ttft), labels: [], requests: 3, endpoint: nil)
        let result = await session.run(try Self.labCase())
        #expect(result.failure == "the disk is full")
        #expect(result.runs.isEmpty && result.rows.isEmpty)
        let (summary, error) = session.summary(of: [result], skipped: [])
        #expect(error?.code == .failure)
        #expect(error?.message == "could not measure pairing; see the messages above")
        #expect(summary.notes == ["caching could not be measured: the disk is full"])
    }

    @Test func anInterruptedLabStopsAndSaysSo() async throws {
        let h = Harness()
        let interrupts = h.interrupts
        h.log.onSend = { sent in if sent.variant == "slow" { interrupts.interrupt() } }
        let session = LabSession(pipeline: h.pipeline(ttft: Self.ttft), labels: [], requests: 3, endpoint: nil)
        let results = await session.run(cases: [try Self.labCase(), try Self.labCase()])
        #expect(results.count == 1)
        #expect(results[0].runs.map(\.info.variant) == ["plain", "slow"])
        #expect(results[0].rows.isEmpty)
        let (summary, error) = session.summary(of: results, skipped: [])
        #expect(error?.code == .interrupted)
        #expect(summary.interrupted)
    }

    @Test func aTargetRunsOnlyTheClientSideCases() throws {
        let document = try Harness.scenario(Self.yaml)
        var server = try LabCase(name: "server-case", document: document, spec: #require(document.lab))
        server.spec.side = .server
        let client = try Self.labCase()
        let endpoint = try LabEndpoint(target: "http://example.test/v1", model: "m", headers: [], environment: [:])
        let split = LabCatalog.split([server, client], endpoint: endpoint)
        #expect(split.runnable.map(\.name) == ["pairing"])
        #expect(split.skipped == ["server-case"])
        #expect(LabCatalog.split([server, client], endpoint: nil).runnable.count == 2)
    }

    @Test func aMultiLineFailureKeepsItsFirstAndLastLine() {
        #expect(LabSession.oneLine("one") == "one")
        #expect(LabSession.oneLine("failed\n a\n\n last words \n") == "failed … last words")
        #expect(LabSession.oneLine("its log ends:\nlast") == "its log ends: last")
    }
}
