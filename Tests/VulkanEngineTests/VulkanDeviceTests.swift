import Foundation
import Testing

@testable import VulkanEngine

/// The device picker, the loader's absence, and the committed SPIR-V against its GLSL.
@Suite struct VulkanDeviceTests {
    static let lavapipe = VulkanDeviceInfo(index: 0, name: "llvmpipe (LLVM 15.0.6, 256 bits)", kind: "CPU")
    static let discrete = VulkanDeviceInfo(index: 1, name: "NVIDIA H200", kind: "discrete GPU")
    static let integrated = VulkanDeviceInfo(index: 2, name: "Intel UHD", kind: "integrated GPU")

    @Test func thePickerTakesTheFirstDiscreteGPUThenIntegratedAndACPUDeviceOnlyWhenAllowed() throws {
        #expect(
            try VulkanContext.pick(from: [Self.lavapipe, Self.integrated, Self.discrete], index: nil, allowCPU: false)
                == Self.discrete)
        #expect(
            try VulkanContext.pick(from: [Self.lavapipe, Self.integrated], index: nil, allowCPU: true)
                == Self.integrated)
        #expect(try VulkanContext.pick(from: [Self.lavapipe], index: nil, allowCPU: true) == Self.lavapipe)
        // Named by index: any type, lavapipe included.
        #expect(
            try VulkanContext.pick(from: [Self.lavapipe, Self.discrete], index: 0, allowCPU: false) == Self.lavapipe)
    }

    @Test func aCPUDeviceIsRefusedWithoutTheOptInAndTheMessageSaysHowToAllowIt() {
        #expect {
            try VulkanContext.pick(from: [Self.lavapipe], index: nil, allowCPU: false)
        } throws: { error in
            let text = "\(error)"
            return text.contains("no Vulkan GPU found") && text.contains("vulkan:0 llvmpipe")
                && text.contains("--device vulkan:0") && text.contains("LLMPERF_VULKAN_ALLOW_CPU=1")
        }
    }

    @Test func noDeviceAndAnIndexOutOfRangeAreClearErrors() {
        #expect(throws: VulkanError.noDevice("no Vulkan device found (the loader lists none)")) {
            try VulkanContext.pick(from: [], index: nil, allowCPU: true)
        }
        #expect {
            try VulkanContext.pick(from: [Self.lavapipe, Self.discrete], index: 5, allowCPU: true)
        } throws: { error in
            "\(error)"
                == "no Vulkan device vulkan:5; the loader lists vulkan:0 llvmpipe (LLVM 15.0.6, 256 bits) (CPU), "
                + "vulkan:1 NVIDIA H200 (discrete GPU)"
        }
    }

    @Test func aMissingLoaderSaysSoAndHowToInstallOne() {
        #expect {
            _ = try VulkanLoader.open("/nonexistent/libvulkan.so.1")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("no Vulkan loader: ") && text.contains("/nonexistent/libvulkan.so.1")
                && text.contains("--device cpu")
        }
    }

    @Test func theLoaderListsThisMachinesDevicesAndOpensTheOneNamed() throws {
        let devices = try VulkanContext.devices()
        #expect(!devices.isEmpty, "make test installs lavapipe (mesa-vulkan-drivers)")
        let context = try VulkanContext(index: devices[0].index)
        #expect(context.info == devices[0])
        #expect(context.maxBindingBytes > 0)
    }

    /// The committed SPIR-V (shaders.c) is what scripts/compile-shaders makes of the GLSL now: a shader edited
    /// without recompiling fails here.
    @Test func theCommittedShadersAreTheCompiledGLSL() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("shaders-\(getpid()).c")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = root.appendingPathComponent("scripts/compile-shaders")
        process.arguments = [output.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "compile-shaders failed: \(message)")
        let committed = try String(
            contentsOf: root.appendingPathComponent("Sources/CVulkanShaders/shaders.c"), encoding: .utf8)
        let fresh = try String(contentsOf: output, encoding: .utf8)
        #expect(fresh == committed, "Sources/CVulkanShaders/shaders.c is stale: run scripts/compile-shaders")
    }
}
