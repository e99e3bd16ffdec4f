import Foundation
import InferenceEngine

/// Loads a model to run on a `ComputeDevice`: the CPU engine as `TransformerModel.load` does, or a Vulkan device,
/// whose accelerator holds the weights (loaded unpacked, since the CPU kernels do not run) and the KV caches.
public enum EngineLoader {
    /// Devices opened so far, by index: a draft model shares its target's device, and `vulkan` and `vulkan:N`
    /// naming the same device share one context.
    nonisolated(unsafe) private static var contexts: [Int: VulkanContext] = [:]
    nonisolated(unsafe) private static var firstGPU: Result<VulkanContext, VulkanError>?

    /// Opens (once per process) the Vulkan device `device` names; `auto` names the first GPU.
    public static func context(for device: ComputeDevice) throws -> VulkanContext {
        switch device {
        case .cpu:
            preconditionFailure("the CPU is not a Vulkan device")
        case .vulkan(let index?):
            if let open = contexts[index] { return open }
            let context = try VulkanContext(index: index)
            contexts[index] = context
            return context
        case .vulkan(nil), .auto:
            if let firstGPU { return try firstGPU.get() }
            let result = Result { () throws(VulkanError) -> VulkanContext in
                do {
                    let picked = try VulkanContext.pick(
                        from: VulkanContext.devices(), index: nil,
                        allowCPU: ProcessInfo.processInfo.environment["LLMPERF_VULKAN_ALLOW_CPU"] == "1")
                    return try context(for: .vulkan(index: picked.index))
                } catch let error as VulkanError {
                    throw error
                } catch {
                    throw .noDevice("\(error)")
                }
            }
            firstGPU = result
            return try result.get()
        }
    }

    /// The device `device` runs on: `auto` becomes the first Vulkan GPU when one can be opened, else the CPU.
    public static func resolve(_ device: ComputeDevice) -> ComputeDevice {
        guard device == .auto else { return device }
        guard let context = try? context(for: .auto) else { return .cpu }
        return .vulkan(index: context.info.index)
    }

    public static func load(
        path: String, device: ComputeDevice, threads: Int = 2, contextLength: Int? = nil,
        weights: WeightFormat = .native, backend: ComputeBackend? = nil
    ) throws -> TransformerModel {
        switch resolve(device) {
        case .cpu, .auto:
            return try TransformerModel.load(
                path: path, threads: threads, contextLength: contextLength, weights: weights, backend: backend)
        case .vulkan(let index):
            let context = try context(for: .vulkan(index: index))
            let model = try TransformerModel.load(
                path: path, threads: threads, contextLength: contextLength, weights: weights, backend: backend,
                packWeights: false)
            try VulkanModel.attach(to: model, context: context)
            return model
        }
    }
}
