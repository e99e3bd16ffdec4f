import Foundation
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import VulkanEngine

/// The forward pass on a Vulkan device against the CPU engine, on the tiny random models of the engine tests.
/// `make test` installs Mesa's lavapipe (a CPU Vulkan driver), so these run without a GPU; where a GPU is present
/// they run on it (the first GPU, else lavapipe).
@Suite(.serialized) struct VulkanForwardTests {
    /// The first GPU, or lavapipe.
    static func context(maxBindingBytes: Int? = nil) throws -> VulkanContext {
        try VulkanContext(index: nil, allowCPU: true, maxBindingBytes: maxBindingBytes)
    }

    /// The same file on the CPU (scalar kernels in debug builds) and on the device.
    static func models(
        _ type: GGMLType, tiedOutput: Bool = true, context: VulkanContext, contextLength: Int = 48
    ) throws -> (cpu: TransformerModel, gpu: TransformerModel, accelerator: VulkanModel) {
        let path = try TinyModelFactory.path(type: type, tiedOutput: tiedOutput)
        let cpu = try TransformerModel.load(path: path, threads: 1, contextLength: contextLength)
        let gpu = try TransformerModel.load(path: path, threads: 1, contextLength: contextLength, packWeights: false)
        let accelerator = try VulkanModel.attach(to: gpu, context: context)
        return (cpu, gpu, accelerator)
    }

    /// Largest difference between two logits rows, relative to the largest logit's size.
    static func relativeError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var worst: Float = 0
        var scale: Float = 0
        for i in 0..<count {
            worst = max(worst, abs(a[i] - b[i]))
            scale = max(scale, abs(b[i]))
        }
        return worst / max(scale, 1e-6)
    }

    static let prompt: [Int32] = [5, 40, 100, 7, 200, 33, 260]

    @Test(arguments: [GGMLType.f32, .f16, .q8_0, .q4_0, .q4_1])
    func logitsMatchTheCPUEngineForEachWeightFormat(type: GGMLType) throws {
        let context = try Self.context()
        let (cpu, gpu, accelerator) = try Self.models(type, tiedOutput: type != .q4_1, context: context)
        let v = cpu.vocabularySize
        let cpuCache = cpu.makeCache()
        let gpuCache = gpu.makeCache()
        let cpuBuffers = ForwardBuffers(config: cpu.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(cpuBuffers) {} }
        let gpuBuffers = ForwardBuffers(config: gpu.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(gpuBuffers) {} }
        // The prompt with every position's logits, then three decode steps.
        let expected = try cpu.forward(tokens: Self.prompt, cache: cpuCache, buffers: cpuBuffers, logits: .all)
        let actual = try gpu.forward(tokens: Self.prompt, cache: gpuCache, buffers: gpuBuffers, logits: .all)
        #expect(gpuCache.count == Self.prompt.count)
        for row in 0..<Self.prompt.count {
            let error = Self.relativeError(actual + row * v, expected + row * v, count: v)
            #expect(error < 1e-4, "\(type.name) prompt row \(row): relative error \(error)")
        }
        for token in [Int32(17), 99, 3] {
            let e = try cpu.forward(tokens: [token], cache: cpuCache, buffers: cpuBuffers)
            let a = try gpu.forward(tokens: [token], cache: gpuCache, buffers: gpuBuffers)
            let error = Self.relativeError(a, e, count: v)
            #expect(error < 1e-4, "\(type.name) decode of \(token): relative error \(error)")
        }
        #expect(accelerator.passes == 4)
        // The prompt's pass and the first decode step were recorded; the next decode steps reused the recording.
        #expect(accelerator.recordings == 2)
        #expect(gpu.deviceDescription.hasPrefix("vulkan:"))
    }
}

/// `--weights` on the device: the matrices are converted on the host at load, then uploaded.
@Suite(.serialized) struct VulkanWeightConversionTests {
    @Test(arguments: [WeightFormat.q8_0, .q4_0, .f16])
    func convertedWeightsGiveTheCPUEnginesLogits(format: WeightFormat) throws {
        let context = try VulkanForwardTests.context()
        let path = try TinyModelFactory.path(type: .f32, tiedOutput: false)
        let cpu = try TransformerModel.load(path: path, threads: 1, contextLength: 32, weights: format)
        let gpu = try TransformerModel.load(
            path: path, threads: 1, contextLength: 32, weights: format, packWeights: false)
        try VulkanModel.attach(to: gpu, context: context)
        #expect(gpu.matrixTypes == [format.type!])
        let v = cpu.vocabularySize
        let cpuBuffers = ForwardBuffers(config: cpu.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(cpuBuffers) {} }
        let expected = try cpu.forward(tokens: VulkanForwardTests.prompt, cache: cpu.makeCache(), buffers: cpuBuffers)
        let gpuBuffers = ForwardBuffers(config: gpu.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(gpuBuffers) {} }
        let actual = try gpu.forward(tokens: VulkanForwardTests.prompt, cache: gpu.makeCache(), buffers: gpuBuffers)
        let error = VulkanForwardTests.relativeError(actual, expected, count: v)
        #expect(error < 1e-4, "\(format): relative error \(error)")
    }
}

/// The device lives as long as anything made on it: a model whose context nobody else holds runs and is freed
/// (its buffers, recorded passes and caches, then the device) without touching a destroyed device.
@Suite(.serialized) struct VulkanLifetimeTests {
    @Test func aModelHoldsItsDeviceUntilItsLastBufferIsFreed() throws {
        var model: TransformerModel? = try {
            let (_, gpu, _) = try VulkanForwardTests.models(.q8_0, context: try VulkanForwardTests.context())
            return gpu
        }()
        var cache = model?.makeCache()
        let buffers = ForwardBuffers(config: model!.config)
        defer { withExtendedLifetime(buffers) {} }
        try model!.forward(tokens: VulkanForwardTests.prompt, cache: cache!, buffers: buffers)
        try model!.forward(tokens: [3], cache: cache!, buffers: buffers)
        #expect(cache!.count == VulkanForwardTests.prompt.count + 1)
        model = nil
        // The cache's slot outlives the model's other buffers and is freed last.
        cache = nil
        #expect(model == nil && cache == nil)
    }
}

/// `LLMPERF_VULKAN_FAIL_PASS`: which pass it names, and the refusal of anything but a positive integer.
struct InjectedFailureSettingTests {
    @Test func aPositiveIntegerNamesThePassAndUnsetNamesNone() throws {
        #expect(try VulkanModel.injectedFailure(nil) == nil)
        #expect(try VulkanModel.injectedFailure("3") == 3)
        #expect(try VulkanModel.injectedFailure(" 12 ") == 12)
    }

    @Test(arguments: ["0", "-1", "x", "", "2.5"])
    func anythingElseIsRefused(_ value: String) {
        #expect(
            throws: VulkanError.badSetting(
                "LLMPERF_VULKAN_FAIL_PASS must be a positive integer (the forward pass to fail, from 1), got '\(value)'"
            )
        ) { try VulkanModel.injectedFailure(value) }
    }
}
