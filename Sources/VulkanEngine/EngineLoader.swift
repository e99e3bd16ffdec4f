import InferenceEngine

/// Loads a model to run on a `ComputeDevice`: the CPU engine as `TransformerModel.load` does, or a Vulkan device,
/// whose accelerator holds the weights (loaded unpacked, since the CPU kernels do not run) and the KV caches.
public enum EngineLoader {
    /// Devices opened so far, by choice: a draft model shares its target's device.
    nonisolated(unsafe) private static var contexts: [ComputeDevice: VulkanContext] = [:]

    /// Opens (once per process) the Vulkan device `device` names.
    public static func context(for device: ComputeDevice) throws -> VulkanContext {
        guard case .vulkan(let index) = device else {
            preconditionFailure("the CPU is not a Vulkan device")
        }
        if let open = contexts[device] { return open }
        let context = try VulkanContext(index: index)
        contexts[device] = context
        return context
    }

    public static func load(
        path: String, device: ComputeDevice, threads: Int = 2, contextLength: Int? = nil,
        weights: WeightFormat = .native, backend: ComputeBackend? = nil
    ) throws -> TransformerModel {
        switch device {
        case .cpu:
            return try TransformerModel.load(
                path: path, threads: threads, contextLength: contextLength, weights: weights, backend: backend)
        case .vulkan:
            let context = try context(for: device)
            let model = try TransformerModel.load(
                path: path, threads: threads, contextLength: contextLength, weights: weights, backend: backend,
                packWeights: false)
            try VulkanModel.attach(to: model, context: context)
            return model
        }
    }
}
