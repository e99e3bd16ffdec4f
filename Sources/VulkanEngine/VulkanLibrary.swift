import CVulkan

#if canImport(Glibc)
    import Glibc
#endif

/// What can go wrong setting up or using a Vulkan device, each with the message a user reads.
public enum VulkanError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The Vulkan loader (libvulkan.so.1) could not be opened.
    case noLoader(String)
    case missingFunction(String)
    /// A Vulkan call failed.
    case call(String, Int32)
    /// No Vulkan device, or none that may be used.
    case noDevice(String)
    /// The device lacks something the engine needs.
    case unsupported(String)
    /// The model does not fit the device (its limits or memory).
    case doesNotFit(String)
    /// An environment setting of the engine's is not valid.
    case badSetting(String)

    public var description: String {
        switch self {
        case .noLoader(let reason):
            return "no Vulkan loader: \(reason) (install a Vulkan driver and loader, e.g. apt-get install "
                + "libvulkan1 mesa-vulkan-drivers, or run with --device cpu)"
        case .missingFunction(let name): return "the Vulkan loader has no \(name)"
        case .call(let name, let result): return "\(name) failed (VkResult \(result))"
        case .noDevice(let reason): return reason
        case .unsupported(let reason): return "the Vulkan device cannot run the engine: \(reason)"
        case .doesNotFit(let reason): return reason
        case .badSetting(let reason): return reason
        }
    }
}

/// Throws `VulkanError.call` unless `result` is VK_SUCCESS.
@inline(__always)
func check(_ result: VkResult, _ name: @autoclosure () -> String) throws {
    guard result == VK_SUCCESS else { throw VulkanError.call(name(), result.rawValue) }
}

/// The Vulkan loader, opened at run time (no link-time dependency): the CPU engine works where it is missing.
final class VulkanLoader: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    let getInstanceProcAddress: PFN_vkGetInstanceProcAddr

    /// The process's loader (opened once).
    static func shared() throws -> VulkanLoader {
        try cached.get()
    }

    private static let cached = Result { () throws(VulkanError) in try open(fileName) }

    /// The loader's file name: `libvulkan.so.1`, or `LLMPERF_VULKAN_LOADER` (tests: a loader that does not exist).
    static var fileName: String {
        getenv("LLMPERF_VULKAN_LOADER").map { String(cString: $0) } ?? "libvulkan.so.1"
    }

    /// Opens the loader at `name` (a file name the dynamic linker searches for, or a path).
    static func open(_ name: String) throws(VulkanError) -> VulkanLoader {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            throw .noLoader(dlerror().map { String(cString: $0) } ?? "\(name) not found")
        }
        guard let symbol = dlsym(handle, "vkGetInstanceProcAddr") else {
            dlclose(handle)
            throw .missingFunction("vkGetInstanceProcAddr")
        }
        return VulkanLoader(
            handle: handle, getInstanceProcAddress: unsafeBitCast(symbol, to: PFN_vkGetInstanceProcAddr.self))
    }

    private init(handle: UnsafeMutableRawPointer, getInstanceProcAddress: PFN_vkGetInstanceProcAddr) {
        self.handle = handle
        self.getInstanceProcAddress = getInstanceProcAddress
    }

    func function<T>(_ instance: VkInstance?, _ name: String) throws -> T {
        guard let f = getInstanceProcAddress(instance, name) else { throw VulkanError.missingFunction(name) }
        return unsafeBitCast(f, to: T.self)
    }
}

/// The instance-level entry points the engine calls.
struct InstanceFunctions {
    let destroyInstance: PFN_vkDestroyInstance
    let enumeratePhysicalDevices: PFN_vkEnumeratePhysicalDevices
    let getPhysicalDeviceProperties: PFN_vkGetPhysicalDeviceProperties
    let getPhysicalDeviceProperties2: PFN_vkGetPhysicalDeviceProperties2
    let getPhysicalDeviceQueueFamilyProperties: PFN_vkGetPhysicalDeviceQueueFamilyProperties
    let getPhysicalDeviceMemoryProperties: PFN_vkGetPhysicalDeviceMemoryProperties
    let enumerateDeviceExtensionProperties: PFN_vkEnumerateDeviceExtensionProperties
    let createDevice: PFN_vkCreateDevice
    let getDeviceProcAddr: PFN_vkGetDeviceProcAddr

    init(loader: VulkanLoader, instance: VkInstance) throws {
        destroyInstance = try loader.function(instance, "vkDestroyInstance")
        enumeratePhysicalDevices = try loader.function(instance, "vkEnumeratePhysicalDevices")
        getPhysicalDeviceProperties = try loader.function(instance, "vkGetPhysicalDeviceProperties")
        getPhysicalDeviceProperties2 = try loader.function(instance, "vkGetPhysicalDeviceProperties2")
        getPhysicalDeviceQueueFamilyProperties = try loader.function(
            instance, "vkGetPhysicalDeviceQueueFamilyProperties")
        getPhysicalDeviceMemoryProperties = try loader.function(instance, "vkGetPhysicalDeviceMemoryProperties")
        enumerateDeviceExtensionProperties = try loader.function(instance, "vkEnumerateDeviceExtensionProperties")
        createDevice = try loader.function(instance, "vkCreateDevice")
        getDeviceProcAddr = try loader.function(instance, "vkGetDeviceProcAddr")
    }
}

/// The device-level entry points the engine calls.
struct DeviceFunctions {
    let destroyDevice: PFN_vkDestroyDevice
    let deviceWaitIdle: PFN_vkDeviceWaitIdle
    let getDeviceQueue: PFN_vkGetDeviceQueue
    let createBuffer: PFN_vkCreateBuffer
    let destroyBuffer: PFN_vkDestroyBuffer
    let getBufferMemoryRequirements: PFN_vkGetBufferMemoryRequirements
    let allocateMemory: PFN_vkAllocateMemory
    let freeMemory: PFN_vkFreeMemory
    let bindBufferMemory: PFN_vkBindBufferMemory
    let mapMemory: PFN_vkMapMemory
    let createShaderModule: PFN_vkCreateShaderModule
    let destroyShaderModule: PFN_vkDestroyShaderModule
    let createDescriptorSetLayout: PFN_vkCreateDescriptorSetLayout
    let destroyDescriptorSetLayout: PFN_vkDestroyDescriptorSetLayout
    let createPipelineLayout: PFN_vkCreatePipelineLayout
    let destroyPipelineLayout: PFN_vkDestroyPipelineLayout
    let createComputePipelines: PFN_vkCreateComputePipelines
    let destroyPipeline: PFN_vkDestroyPipeline
    let createCommandPool: PFN_vkCreateCommandPool
    let destroyCommandPool: PFN_vkDestroyCommandPool
    let allocateCommandBuffers: PFN_vkAllocateCommandBuffers
    let freeCommandBuffers: PFN_vkFreeCommandBuffers
    let beginCommandBuffer: PFN_vkBeginCommandBuffer
    let endCommandBuffer: PFN_vkEndCommandBuffer
    let cmdBindPipeline: PFN_vkCmdBindPipeline
    let cmdPushConstants: PFN_vkCmdPushConstants
    let cmdPushDescriptorSet: PFN_vkCmdPushDescriptorSetKHR
    let cmdDispatch: PFN_vkCmdDispatch
    let cmdPipelineBarrier: PFN_vkCmdPipelineBarrier
    let cmdCopyBuffer: PFN_vkCmdCopyBuffer
    let cmdWriteTimestamp: PFN_vkCmdWriteTimestamp
    let cmdResetQueryPool: PFN_vkCmdResetQueryPool
    let createQueryPool: PFN_vkCreateQueryPool
    let destroyQueryPool: PFN_vkDestroyQueryPool
    let getQueryPoolResults: PFN_vkGetQueryPoolResults
    let queueSubmit: PFN_vkQueueSubmit
    let createFence: PFN_vkCreateFence
    let destroyFence: PFN_vkDestroyFence
    let waitForFences: PFN_vkWaitForFences
    let resetFences: PFN_vkResetFences

    init(instance: InstanceFunctions, device: VkDevice) throws {
        func load<T>(_ name: String) throws -> T {
            guard let f = instance.getDeviceProcAddr(device, name) else { throw VulkanError.missingFunction(name) }
            return unsafeBitCast(f, to: T.self)
        }
        destroyDevice = try load("vkDestroyDevice")
        deviceWaitIdle = try load("vkDeviceWaitIdle")
        getDeviceQueue = try load("vkGetDeviceQueue")
        createBuffer = try load("vkCreateBuffer")
        destroyBuffer = try load("vkDestroyBuffer")
        getBufferMemoryRequirements = try load("vkGetBufferMemoryRequirements")
        allocateMemory = try load("vkAllocateMemory")
        freeMemory = try load("vkFreeMemory")
        bindBufferMemory = try load("vkBindBufferMemory")
        mapMemory = try load("vkMapMemory")
        createShaderModule = try load("vkCreateShaderModule")
        destroyShaderModule = try load("vkDestroyShaderModule")
        createDescriptorSetLayout = try load("vkCreateDescriptorSetLayout")
        destroyDescriptorSetLayout = try load("vkDestroyDescriptorSetLayout")
        createPipelineLayout = try load("vkCreatePipelineLayout")
        destroyPipelineLayout = try load("vkDestroyPipelineLayout")
        createComputePipelines = try load("vkCreateComputePipelines")
        destroyPipeline = try load("vkDestroyPipeline")
        createCommandPool = try load("vkCreateCommandPool")
        destroyCommandPool = try load("vkDestroyCommandPool")
        allocateCommandBuffers = try load("vkAllocateCommandBuffers")
        freeCommandBuffers = try load("vkFreeCommandBuffers")
        beginCommandBuffer = try load("vkBeginCommandBuffer")
        endCommandBuffer = try load("vkEndCommandBuffer")
        cmdBindPipeline = try load("vkCmdBindPipeline")
        cmdPushConstants = try load("vkCmdPushConstants")
        cmdPushDescriptorSet = try load("vkCmdPushDescriptorSetKHR")
        cmdDispatch = try load("vkCmdDispatch")
        cmdPipelineBarrier = try load("vkCmdPipelineBarrier")
        cmdCopyBuffer = try load("vkCmdCopyBuffer")
        cmdWriteTimestamp = try load("vkCmdWriteTimestamp")
        cmdResetQueryPool = try load("vkCmdResetQueryPool")
        createQueryPool = try load("vkCreateQueryPool")
        destroyQueryPool = try load("vkDestroyQueryPool")
        getQueryPoolResults = try load("vkGetQueryPoolResults")
        queueSubmit = try load("vkQueueSubmit")
        createFence = try load("vkCreateFence")
        destroyFence = try load("vkDestroyFence")
        waitForFences = try load("vkWaitForFences")
        resetFences = try load("vkResetFences")
    }
}
