import Foundation
import InferenceEngine
import LLMPerfCore
import Testing

@testable import LLMPerfRunner

/// `--device` and `options: {device: …}`: the engine's parser and the scenario loader's check take the same
/// values, and `llmperf lab --device` reaches every local backend.
@Suite struct DeviceChoiceTests {
    static let accepted: [(String, ComputeDevice)] = [
        ("cpu", .cpu), ("CPU", .cpu), ("vulkan", .vulkan(index: nil)), ("Vulkan", .vulkan(index: nil)),
        ("vulkan:0", .vulkan(index: 0)), ("VULKAN:12", .vulkan(index: 12)), ("auto", .auto), ("Auto", .auto),
    ]
    static let refused = [
        "", "gpu", "metal", "vulkan:", "vulkan:-1", "vulkan:x", "vulkan:1.5", "vulkan0", "vulkan:0:1", "cpu:0",
        " vulkan", "vulkan ", "cuda:0", "auto:0",
    ]

    @Test func theEngineParsesCpuVulkanAndVulkanN() {
        for (text, device) in Self.accepted {
            #expect(ComputeDevice(argument: text) == device, "\(text)")
        }
        for text in Self.refused {
            #expect(ComputeDevice(argument: text) == nil, "\(text)")
        }
        #expect(ComputeDevice.vulkan(index: 3).description == "vulkan:3")
        #expect(ComputeDevice(argument: ComputeDevice.vulkan(index: nil).description) == .vulkan(index: nil))
    }

    @Test func theScenarioCheckAgreesWithTheEngine() {
        for (text, _) in Self.accepted {
            #expect(LocalBackendSpec.isDevice(text), "\(text)")
        }
        for text in Self.refused {
            #expect(!LocalBackendSpec.isDevice(text), "\(text)")
        }
        for text in Self.accepted.map(\.0) + Self.refused + ["vulkan:٣", "vulkan:+1", "vulkan:007", "ＣＰＵ"] {
            #expect(LocalBackendSpec.isDevice(text) == (ComputeDevice(argument: text) != nil), "\(text)")
        }
    }

    static let labYAML = """
        version: 1
        name: on-device
        target: { backend: local, engine: transformer, model: default, options: { weights: f32, device: cpu } }
        workload: { prompts: ["hi"], max_tokens: 4 }
        load: { concurrency: 1, requests: 2 }
        lab:
          optimization: batching
          moves: output tokens per second
          metric: output_tokens_per_s
          side: server
        variants:
          serial: { target: { options: { batching: "off" } } }
          batched: { target: { options: { batching: continuous } } }
        """

    @Test func labDeviceReachesEveryLocalBackend() async throws {
        let document = try Harness.scenario(Self.labYAML)
        let labCase = LabCase(name: "on-device", document: document, spec: try #require(document.lab))
        let h = Harness()
        let session = LabSession(pipeline: h.pipeline(), labels: [], requests: nil, endpoint: nil, device: "vulkan:1")
        let result = await session.run(labCase)
        #expect(result.failure == nil)
        #expect(h.launcher.started.count == 2)
        for spec in h.launcher.started {
            #expect(spec.options.filter { $0.key == "device" }.map(\.value) == ["vulkan:1"])
            #expect(spec.serveArguments.suffix(2) == ["--device", "vulkan:1"])
        }
        // Without --device each scenario keeps its own.
        let own = Harness()
        _ = await LabSession(pipeline: own.pipeline(), labels: [], requests: nil, endpoint: nil).run(labCase)
        #expect(own.launcher.started.map { $0.options.first { $0.key == "device" }?.value } == ["cpu", "cpu"])
    }
}
