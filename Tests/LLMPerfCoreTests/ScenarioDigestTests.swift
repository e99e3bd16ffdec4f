import Foundation
import Testing

@testable import LLMPerfCore

/// Scenario hashes are stored with every run and compared across versions of llmperf: the
/// digest of a fixed scenario and of a fixed prompt set must never change.
@Suite("Scenario digest")
struct ScenarioDigestTests {
    static let yaml = """
        version: 1
        name: pinned
        target:
          url: https://api.example.com/v1
          model: m
          headers: { Authorization: "Bearer ${KEY}", X-Team: latency }
          timeouts: { connect: 1.5s, first_token: 250ms }
        workload:
          prompts: ["Explain continuous batching.", { system: "Be terse.", user: "Quote \\"this\\"\\n" }]
          max_tokens: 64
          extra_body: { ignore_eos: true }
        load: { rate: 10/s, arrival: poisson, max_concurrency: 8, duration: 30s, warmup: 2 }
        """

    @Test func aFixedScenarioKeepsItsHash() throws {
        let document = try ScenarioLoader.load(yaml: Self.yaml, path: "scenarios/pinned.yml", environment: ["KEY": "k"])
        let run = try #require(document.runs.first)
        #expect(run.hash == "d3020431a56932653f08846b09552b74352b80fdc63f71ef06d55e5a544fcf4d")
        #expect(run.workload.promptSetHash == "89a4c0d1188fc0a1")
    }

    @Test func digestOfBytesAcrossBlockBoundaries() {
        // 55, 56 and 64 bytes: the padding needs one block, two blocks, and a full extra block.
        #expect(
            ScenarioDigest.sha256Hex(String(repeating: "a", count: 55))
                == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        #expect(
            ScenarioDigest.sha256Hex(String(repeating: "a", count: 56))
                == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
        #expect(
            ScenarioDigest.sha256Hex(String(repeating: "a", count: 64))
                == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
        #expect(
            ScenarioDigest.sha256Hex("µs → ✓") == "4aedd4fd39571ce5ec5cc9fcceb307f767ece1d41fa90a1eabe2a0f850abeb04")
    }
}
