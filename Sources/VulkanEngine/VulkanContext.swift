import CVulkan
import CVulkanShaders
import Foundation

/// One Vulkan device as listed by the loader, for the device picker and error messages.
public struct VulkanDeviceInfo: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let name: String
    /// `discrete GPU`, `integrated GPU`, `virtual GPU`, `CPU` or `other`.
    public let kind: String
    public var isCPU: Bool { kind == "CPU" }
    public var description: String { "vulkan:\(index) \(name) (\(kind))" }
}

/// A device buffer and its memory. Host-visible buffers stay mapped (`mapped`). It keeps its context (and so the
/// device) alive until it is destroyed.
final class VulkanBuffer {
    let context: VulkanContext
    let buffer: VkBuffer
    let memory: VkDeviceMemory
    let size: Int
    let mapped: UnsafeMutableRawPointer?

    init(context: VulkanContext, buffer: VkBuffer, memory: VkDeviceMemory, size: Int, mapped: UnsafeMutableRawPointer?)
    {
        self.context = context
        self.buffer = buffer
        self.memory = memory
        self.size = size
        self.mapped = mapped
    }

    deinit {
        context.device.destroyBuffer(context.handle, buffer, nil)
        context.device.freeMemory(context.handle, memory, nil)
    }

    /// The whole buffer as one binding.
    var whole: BufferRange { BufferRange(buffer: self, offset: 0, size: size) }

    func range(offset: Int, size: Int) -> BufferRange { BufferRange(buffer: self, offset: offset, size: size) }
}

/// Part of a buffer bound to one shader binding.
struct BufferRange {
    let buffer: VulkanBuffer
    let offset: Int
    let size: Int
}

/// A compute shader ready to dispatch: its pipeline and layout (push descriptors, one set, 128 bytes of push
/// constants).
final class ComputePipeline {
    let name: String
    let bindings: Int
    let pipeline: VkPipeline
    let layout: VkPipelineLayout
    let setLayout: VkDescriptorSetLayout

    init(name: String, bindings: Int, pipeline: VkPipeline, layout: VkPipelineLayout, setLayout: VkDescriptorSetLayout)
    {
        self.name = name
        self.bindings = bindings
        self.pipeline = pipeline
        self.layout = layout
        self.setLayout = setLayout
    }
}

/// A Vulkan instance, one device and its compute queue, the engine's pipelines, and command submission.
/// Used from one thread at a time (the model's inference thread).
public final class VulkanContext {
    public let info: VulkanDeviceInfo
    /// The largest range one storage binding may cover (`maxStorageBufferRange`, or a smaller test override).
    public let maxBindingBytes: Int
    /// Nanoseconds per timestamp tick; nil when the queue cannot write timestamps.
    let timestampPeriod: Double?
    let minStorageOffsetAlignment: Int
    let maxWorkgroupsPerDimension: Int
    /// Weight rows per matrix-product workgroup: one per subgroup of the 64 invocations (the shader takes any
    /// actual subgroup size: its subgroups share the rows out).
    let rowsPerWorkgroup: Int

    let instanceHandle: VkInstance
    let instance: InstanceFunctions
    let physicalDevice: VkPhysicalDevice
    let handle: VkDevice
    let device: DeviceFunctions
    let queue: VkQueue
    private let commandPool: VkCommandPool
    private let fence: VkFence
    private let memoryProperties: VkPhysicalDeviceMemoryProperties
    private var pipelines: [String: ComputePipeline] = [:]

    /// The devices the loader lists (no device is opened).
    public static func devices() throws -> [VulkanDeviceInfo] {
        let (loader, instance, functions) = try createInstance()
        defer { functions.destroyInstance(instance, nil) }
        _ = loader
        return try physicalDevices(instance, functions).enumerated().map { index, device in
            describe(device, index: index, functions)
        }
    }

    /// Opens the device `index` picks (nil: the first GPU, discrete first). A device of CPU type (Mesa's lavapipe)
    /// is used only when named by index or when `allowCPU` (or `LLMPERF_VULKAN_ALLOW_CPU=1`) says so.
    /// - Parameter maxBindingBytes: bind at most this many bytes per storage binding (tests: force split bindings).
    public init(index: Int?, allowCPU: Bool = false, maxBindingBytes: Int? = nil) throws {
        let (_, instance, functions) = try Self.createInstance()
        var opened = false
        defer { if !opened { functions.destroyInstance(instance, nil) } }
        let candidates = try Self.physicalDevices(instance, functions)
        let listed = candidates.enumerated().map { Self.describe($1, index: $0, functions) }
        let chosen = try Self.pick(
            from: listed, index: index,
            allowCPU: allowCPU || ProcessInfo.processInfo.environment["LLMPERF_VULKAN_ALLOW_CPU"] == "1")
        let physical = candidates[chosen.index]
        info = chosen
        instanceHandle = instance
        self.instance = functions
        physicalDevice = physical

        var properties = VkPhysicalDeviceProperties()
        functions.getPhysicalDeviceProperties(physical, &properties)
        let limits = properties.limits
        self.maxBindingBytes = min(Int(limits.maxStorageBufferRange), maxBindingBytes ?? Int.max)
        minStorageOffsetAlignment = Int(limits.minStorageBufferOffsetAlignment)
        maxWorkgroupsPerDimension = Int(limits.maxComputeWorkGroupCount.0)
        guard limits.maxPushConstantsSize >= 128 else {
            throw VulkanError.unsupported("push constants of \(limits.maxPushConstantsSize) bytes (needs 128)")
        }

        // Subgroup arithmetic in compute shaders (the shaders' sums and maxima).
        var subgroup = VkPhysicalDeviceSubgroupProperties()
        subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES
        var properties2 = VkPhysicalDeviceProperties2()
        properties2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
        withUnsafeMutablePointer(to: &subgroup) { s in
            properties2.pNext = UnsafeMutableRawPointer(s)
            functions.getPhysicalDeviceProperties2(physical, &properties2)
        }
        guard subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT.rawValue != 0,
            subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT.rawValue != 0
        else { throw VulkanError.unsupported("no subgroup arithmetic in compute shaders") }
        rowsPerWorkgroup = max(1, 64 / max(1, Int(subgroup.subgroupSize)))

        // Extensions: push descriptors.
        var extensionCount: UInt32 = 0
        try check(
            functions.enumerateDeviceExtensionProperties(physical, nil, &extensionCount, nil),
            "vkEnumerateDeviceExtensionProperties")
        var extensions = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(extensionCount))
        try check(
            functions.enumerateDeviceExtensionProperties(physical, nil, &extensionCount, &extensions),
            "vkEnumerateDeviceExtensionProperties")
        let extensionNames = Set(
            extensions.map { e in
                withUnsafeBytes(of: e.extensionName) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            })
        guard extensionNames.contains("VK_KHR_push_descriptor") else {
            throw VulkanError.unsupported("no VK_KHR_push_descriptor")
        }

        // A queue family that computes.
        var familyCount: UInt32 = 0
        functions.getPhysicalDeviceQueueFamilyProperties(physical, &familyCount, nil)
        var families = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(familyCount))
        functions.getPhysicalDeviceQueueFamilyProperties(physical, &familyCount, &families)
        guard let family = families.firstIndex(where: { $0.queueFlags & VK_QUEUE_COMPUTE_BIT.rawValue != 0 }) else {
            throw VulkanError.unsupported("no compute queue")
        }
        timestampPeriod =
            families[family].timestampValidBits > 0 && limits.timestampPeriod > 0
            ? Double(limits.timestampPeriod) : nil

        var priority: Float = 1
        var device: VkDevice?
        try withUnsafePointer(to: &priority) { priorityPointer in
            var queueInfo = VkDeviceQueueCreateInfo()
            queueInfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
            queueInfo.queueFamilyIndex = UInt32(family)
            queueInfo.queueCount = 1
            queueInfo.pQueuePriorities = priorityPointer
            let extensionName = strdup("VK_KHR_push_descriptor")
            defer { free(extensionName) }
            var names: [UnsafePointer<CChar>?] = [UnsafePointer(extensionName)]
            try withUnsafePointer(to: &queueInfo) { queuePointer in
                try names.withUnsafeMutableBufferPointer { namesPointer in
                    var createInfo = VkDeviceCreateInfo()
                    createInfo.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
                    createInfo.queueCreateInfoCount = 1
                    createInfo.pQueueCreateInfos = queuePointer
                    createInfo.enabledExtensionCount = 1
                    createInfo.ppEnabledExtensionNames = UnsafePointer(namesPointer.baseAddress)
                    try check(functions.createDevice(physical, &createInfo, nil, &device), "vkCreateDevice")
                }
            }
        }
        guard let device else { throw VulkanError.call("vkCreateDevice", 0) }
        let deviceFunctions: DeviceFunctions
        do {
            deviceFunctions = try DeviceFunctions(instance: functions, device: device)
        } catch {
            if let destroy: PFN_vkDestroyDevice = try? VulkanLoader.shared().function(instance, "vkDestroyDevice") {
                destroy(device, nil)
            }
            throw error
        }
        handle = device
        self.device = deviceFunctions
        var queue: VkQueue?
        deviceFunctions.getDeviceQueue(device, UInt32(family), 0, &queue)
        self.queue = queue!
        var memory = VkPhysicalDeviceMemoryProperties()
        functions.getPhysicalDeviceMemoryProperties(physical, &memory)
        memoryProperties = memory

        var poolInfo = VkCommandPoolCreateInfo()
        poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        poolInfo.queueFamilyIndex = UInt32(family)
        var pool: VkCommandPool?
        try check(deviceFunctions.createCommandPool(device, &poolInfo, nil, &pool), "vkCreateCommandPool")
        commandPool = pool!
        var fenceInfo = VkFenceCreateInfo()
        fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
        var fence: VkFence?
        try check(deviceFunctions.createFence(device, &fenceInfo, nil, &fence), "vkCreateFence")
        self.fence = fence!
        opened = true
    }

    deinit {
        _ = device.deviceWaitIdle(handle)
        for p in pipelines.values {
            device.destroyPipeline(handle, p.pipeline, nil)
            device.destroyPipelineLayout(handle, p.layout, nil)
            device.destroyDescriptorSetLayout(handle, p.setLayout, nil)
        }
        device.destroyFence(handle, fence, nil)
        device.destroyCommandPool(handle, commandPool, nil)
        device.destroyDevice(handle, nil)
        instance.destroyInstance(instanceHandle, nil)
    }

    // MARK: instance and devices

    /// The device picker: `index` names a device of `listed` (any type); nil takes the first discrete GPU, else
    /// integrated, virtual, other, and a CPU device (lavapipe) only with `allowCPU`.
    static func pick(from listed: [VulkanDeviceInfo], index: Int?, allowCPU: Bool) throws -> VulkanDeviceInfo {
        if let index {
            guard listed.indices.contains(index) else {
                throw VulkanError.noDevice(
                    "no Vulkan device vulkan:\(index); the loader lists "
                        + (listed.isEmpty ? "none" : listed.map(\.description).joined(separator: ", ")))
            }
            return listed[index]
        }
        let order = ["discrete GPU", "integrated GPU", "virtual GPU", "other"] + (allowCPU ? ["CPU"] : [])
        if let best = order.lazy.compactMap({ kind in listed.first { $0.kind == kind } }).first { return best }
        guard let skipped = listed.first(where: \.isCPU) else {
            throw VulkanError.noDevice("no Vulkan device found (the loader lists none)")
        }
        throw VulkanError.noDevice(
            "no Vulkan GPU found: \(listed.filter(\.isCPU).map(\.description).joined(separator: ", ")) "
                + "is a CPU device, used only when named (--device vulkan:\(skipped.index)) or allowed with "
                + "LLMPERF_VULKAN_ALLOW_CPU=1")
    }

    private static func createInstance() throws -> (VulkanLoader, VkInstance, InstanceFunctions) {
        let loader = try VulkanLoader.shared()
        let create: PFN_vkCreateInstance = try loader.function(nil, "vkCreateInstance")
        var instance: VkInstance?
        let applicationName = strdup("llmperf")
        defer { free(applicationName) }
        var application = VkApplicationInfo()
        application.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
        application.pApplicationName = UnsafePointer(applicationName)
        application.pEngineName = UnsafePointer(applicationName)
        application.apiVersion = (1 << 22) | (1 << 12)  // Vulkan 1.1
        try withUnsafePointer(to: &application) { app in
            var info = VkInstanceCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
            info.pApplicationInfo = app
            let result = create(&info, nil, &instance)
            if result == VK_ERROR_INCOMPATIBLE_DRIVER {
                throw VulkanError.noDevice(
                    "no Vulkan device found: the loader found no Vulkan 1.1 driver (vkCreateInstance: incompatible "
                        + "driver)")
            }
            try check(result, "vkCreateInstance")
        }
        guard let instance else { throw VulkanError.call("vkCreateInstance", 0) }
        do {
            return (loader, instance, try InstanceFunctions(loader: loader, instance: instance))
        } catch {
            if let destroy: PFN_vkDestroyInstance = try? loader.function(instance, "vkDestroyInstance") {
                destroy(instance, nil)
            }
            throw error
        }
    }

    private static func physicalDevices(_ instance: VkInstance, _ functions: InstanceFunctions) throws
        -> [VkPhysicalDevice]
    {
        var count: UInt32 = 0
        try check(functions.enumeratePhysicalDevices(instance, &count, nil), "vkEnumeratePhysicalDevices")
        var devices = [VkPhysicalDevice?](repeating: nil, count: Int(count))
        try check(functions.enumeratePhysicalDevices(instance, &count, &devices), "vkEnumeratePhysicalDevices")
        return devices.prefix(Int(count)).compactMap { $0 }
    }

    private static func describe(_ device: VkPhysicalDevice, index: Int, _ functions: InstanceFunctions)
        -> VulkanDeviceInfo
    {
        var properties = VkPhysicalDeviceProperties()
        functions.getPhysicalDeviceProperties(device, &properties)
        let name = withUnsafeBytes(of: properties.deviceName) {
            String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
        }
        let kind: String
        switch properties.deviceType {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: kind = "discrete GPU"
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: kind = "integrated GPU"
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: kind = "virtual GPU"
        case VK_PHYSICAL_DEVICE_TYPE_CPU: kind = "CPU"
        default: kind = "other"
        }
        return VulkanDeviceInfo(index: index, name: name, kind: kind)
    }

    // MARK: memory

    private func memoryType(bits: UInt32, required: UInt32, preferred: UInt32 = 0) -> UInt32? {
        let types = withUnsafeBytes(of: memoryProperties.memoryTypes) { Array($0.bindMemory(to: VkMemoryType.self)) }
        let candidates = (0..<Int(memoryProperties.memoryTypeCount)).filter {
            bits & (1 << UInt32($0)) != 0 && types[$0].propertyFlags & required == required
        }
        return (candidates.first { types[$0].propertyFlags & preferred == preferred } ?? candidates.first).map {
            UInt32($0)
        }
    }

    /// Where a buffer lives.
    enum Placement {
        /// Device memory the shaders read fastest.
        case device
        /// Host-visible, coherent memory written by the host (uploads).
        case upload
        /// Host-visible, coherent (preferably cached) memory read by the host (downloads).
        case download
    }

    /// A buffer of `size` bytes usable as storage and as a copy source and destination.
    func buffer(size: Int, placement: Placement) throws -> VulkanBuffer {
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(max(16, size))
        info.usage =
            VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue
            | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var buffer: VkBuffer?
        try check(device.createBuffer(handle, &info, nil, &buffer), "vkCreateBuffer")
        var requirements = VkMemoryRequirements()
        device.getBufferMemoryRequirements(handle, buffer, &requirements)
        let hostVisible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
        let type: UInt32?
        switch placement {
        case .device:
            type = memoryType(bits: requirements.memoryTypeBits, required: VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue)
        case .upload:
            type = memoryType(bits: requirements.memoryTypeBits, required: hostVisible)
        case .download:
            type = memoryType(
                bits: requirements.memoryTypeBits, required: hostVisible,
                preferred: VK_MEMORY_PROPERTY_HOST_CACHED_BIT.rawValue)
        }
        guard let type else {
            device.destroyBuffer(handle, buffer, nil)
            throw VulkanError.unsupported("no memory type for a \(placement) buffer")
        }
        var allocate = VkMemoryAllocateInfo()
        allocate.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        allocate.allocationSize = requirements.size
        allocate.memoryTypeIndex = type
        var memory: VkDeviceMemory?
        let result = device.allocateMemory(handle, &allocate, nil, &memory)
        guard result == VK_SUCCESS, let memory else {
            device.destroyBuffer(handle, buffer, nil)
            if result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY {
                throw VulkanError.doesNotFit(
                    "\(info) ran out of memory allocating \(size) bytes (VkResult \(result.rawValue))")
            }
            throw VulkanError.call("vkAllocateMemory", result.rawValue)
        }
        do {
            try check(device.bindBufferMemory(handle, buffer, memory, 0), "vkBindBufferMemory")
        } catch {
            device.destroyBuffer(handle, buffer, nil)
            device.freeMemory(handle, memory, nil)
            throw error
        }
        var mapped: UnsafeMutableRawPointer?
        if placement != .device {
            try check(device.mapMemory(handle, memory, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &mapped), "vkMapMemory")
        }
        return VulkanBuffer(context: self, buffer: buffer!, memory: memory, size: size, mapped: mapped)
    }

    /// A device buffer holding `bytes` (copied through a staging buffer).
    func deviceBuffer(bytes: UnsafeRawBufferPointer) throws -> VulkanBuffer {
        let result = try buffer(size: bytes.count, placement: .device)
        try upload(bytes, to: result, offset: 0)
        return result
    }

    /// Copies `bytes` into `target` at `offset` through a staging buffer, and waits.
    func upload(_ bytes: UnsafeRawBufferPointer, to target: VulkanBuffer, offset: Int) throws {
        guard bytes.count > 0 else { return }
        if let mapped = target.mapped {
            (mapped + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            return
        }
        let staging = try buffer(size: bytes.count, placement: .upload)
        staging.mapped!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        try submit { recorder in recorder.copy(from: staging, 0, to: target, offset, bytes: bytes.count) }
    }

    // MARK: pipelines

    /// The compute pipeline of shader `name` (built on first use), with `bindings` storage buffers.
    func pipeline(_ name: String, bindings: Int) throws -> ComputePipeline {
        if let p = pipelines[name] { return p }
        guard let shader = llmperf_shader_named(name)?.pointee else {
            throw VulkanError.unsupported("no shader \(name)")
        }
        var moduleInfo = VkShaderModuleCreateInfo()
        moduleInfo.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
        moduleInfo.codeSize = shader.size
        moduleInfo.pCode = shader.code
        var module: VkShaderModule?
        try check(device.createShaderModule(handle, &moduleInfo, nil, &module), "vkCreateShaderModule (\(name))")
        defer { device.destroyShaderModule(handle, module, nil) }

        var layoutBindings = (0..<bindings).map { b -> VkDescriptorSetLayoutBinding in
            var binding = VkDescriptorSetLayoutBinding()
            binding.binding = UInt32(b)
            binding.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            binding.descriptorCount = 1
            binding.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return binding
        }
        var setLayout: VkDescriptorSetLayout?
        try layoutBindings.withUnsafeMutableBufferPointer { pointer in
            var info = VkDescriptorSetLayoutCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
            info.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR.rawValue
            info.bindingCount = UInt32(bindings)
            info.pBindings = UnsafePointer(pointer.baseAddress)
            try check(device.createDescriptorSetLayout(handle, &info, nil, &setLayout), "vkCreateDescriptorSetLayout")
        }
        var pushRange = VkPushConstantRange()
        pushRange.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
        pushRange.offset = 0
        pushRange.size = 128
        var layout: VkPipelineLayout?
        try withUnsafePointer(to: &setLayout) { setLayoutPointer in
            try withUnsafePointer(to: &pushRange) { rangePointer in
                var info = VkPipelineLayoutCreateInfo()
                info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
                info.setLayoutCount = 1
                info.pSetLayouts = setLayoutPointer
                info.pushConstantRangeCount = 1
                info.pPushConstantRanges = rangePointer
                try check(device.createPipelineLayout(handle, &info, nil, &layout), "vkCreatePipelineLayout")
            }
        }
        let entry = strdup("main")
        defer { free(entry) }
        var stage = VkPipelineShaderStageCreateInfo()
        stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
        stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
        stage.module = module
        stage.pName = UnsafePointer(entry)
        var pipelineInfo = VkComputePipelineCreateInfo()
        pipelineInfo.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
        pipelineInfo.stage = stage
        pipelineInfo.layout = layout
        var pipeline: VkPipeline?
        try check(
            device.createComputePipelines(handle, nil, 1, &pipelineInfo, nil, &pipeline),
            "vkCreateComputePipelines (\(name))")
        let result = ComputePipeline(
            name: name, bindings: bindings, pipeline: pipeline!, layout: layout!, setLayout: setLayout!)
        pipelines[name] = result
        return result
    }

    // MARK: submission

    func freeCommandBuffer(_ buffer: VkCommandBuffer) {
        var buffers: [VkCommandBuffer?] = [buffer]
        device.freeCommandBuffers(handle, commandPool, 1, &buffers)
    }

    /// What a submission times.
    enum TimestampMode: Hashable {
        case none
        /// The whole command buffer.
        case total
        /// The whole command buffer and every dispatch.
        case perDispatch
    }

    /// Records commands with `body` and submits them once, waiting for the device to finish.
    @discardableResult
    func submit(timestamps: TimestampMode = .none, _ body: (CommandRecorder) throws -> Void) throws -> GPUTimings? {
        try run(record(timestamps: timestamps, body))
    }

    /// Records commands with `body` into a command buffer of their own, to submit any number of times with `run`
    /// (a forward pass of the same shape is recorded once: only the buffers' contents change between steps).
    /// Unless `timestamps` is `.none` (or the queue cannot time), each run times the whole command buffer and, per
    /// dispatch, each dispatch.
    func record(timestamps: TimestampMode, _ body: (CommandRecorder) throws -> Void) throws -> RecordedCommands {
        var allocateInfo = VkCommandBufferAllocateInfo()
        allocateInfo.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        allocateInfo.commandPool = commandPool
        allocateInfo.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        allocateInfo.commandBufferCount = 1
        var allocated: VkCommandBuffer?
        try check(device.allocateCommandBuffers(handle, &allocateInfo, &allocated), "vkAllocateCommandBuffers")
        let commandBuffer = allocated!
        let timing = timestamps != .none && timestampPeriod != nil
        var queries = 0
        if timing {
            queries = 2
            if timestamps == .perDispatch {
                // A dry run counts the dispatches, so that the query pool holds two timestamps for each.
                let counter = CommandRecorder(context: self, commandBuffer: commandBuffer, dryRun: true)
                try body(counter)
                queries += 2 * counter.dispatches
            }
        }
        var queryPool: VkQueryPool?
        if queries > 0 {
            var info = VkQueryPoolCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO
            info.queryType = VK_QUERY_TYPE_TIMESTAMP
            info.queryCount = UInt32(queries)
            try check(device.createQueryPool(handle, &info, nil, &queryPool), "vkCreateQueryPool")
        }
        let recorded = RecordedCommands(
            context: self, commandBuffer: commandBuffer, queryPool: queryPool, queryCount: queries)
        var begin = VkCommandBufferBeginInfo()
        begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        try check(device.beginCommandBuffer(commandBuffer, &begin), "vkBeginCommandBuffer")
        let recorder = CommandRecorder(context: self, commandBuffer: commandBuffer, dryRun: false)
        if let queryPool {
            device.cmdResetQueryPool(commandBuffer, queryPool, 0, UInt32(queries))
            device.cmdWriteTimestamp(commandBuffer, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queryPool, 0)
            recorder.queryPool = timestamps == .perDispatch ? queryPool : nil
            recorder.nextQuery = 1
        }
        try body(recorder)
        if let queryPool {
            device.cmdWriteTimestamp(
                commandBuffer, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queryPool, UInt32(queries - 1))
        }
        try check(device.endCommandBuffer(commandBuffer), "vkEndCommandBuffer")
        recorded.timedNames = recorder.timedNames
        return recorded
    }

    /// Submits recorded commands and waits for the device to finish them.
    @discardableResult
    func run(_ commands: RecordedCommands) throws -> GPUTimings? {
        var buffers: [VkCommandBuffer?] = [commands.commandBuffer]
        var fences: [VkFence?] = [fence]
        try check(device.resetFences(handle, 1, &fences), "vkResetFences")
        try buffers.withUnsafeMutableBufferPointer { pointer in
            var submit = VkSubmitInfo()
            submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
            submit.commandBufferCount = 1
            submit.pCommandBuffers = UnsafePointer(pointer.baseAddress)
            try check(device.queueSubmit(queue, 1, &submit, fence), "vkQueueSubmit")
        }
        try check(device.waitForFences(handle, 1, &fences, VkBool32(VK_TRUE), UInt64.max), "vkWaitForFences")
        guard let queryPool = commands.queryPool, let period = timestampPeriod else { return nil }
        let count = commands.queryCount
        var stamps = [UInt64](repeating: 0, count: count)
        try check(
            device.getQueryPoolResults(
                handle, queryPool, 0, UInt32(count), count * 8, &stamps, 8,
                VK_QUERY_RESULT_64_BIT.rawValue | VK_QUERY_RESULT_WAIT_BIT.rawValue),
            "vkGetQueryPoolResults")
        var kernels: [(String, Double)] = []
        for (k, name) in commands.timedNames.enumerated() {
            kernels.append((name, Double(stamps[2 + 2 * k] &- stamps[1 + 2 * k]) * period))
        }
        return GPUTimings(total: Double(stamps[count - 1] &- stamps[0]) * period, kernels: kernels)
    }
}

/// A command buffer recorded once (with its own timestamp queries), submitted with `VulkanContext.run`.
final class RecordedCommands {
    let context: VulkanContext
    let commandBuffer: VkCommandBuffer
    let queryPool: VkQueryPool?
    let queryCount: Int
    var timedNames: [String] = []

    init(context: VulkanContext, commandBuffer: VkCommandBuffer, queryPool: VkQueryPool?, queryCount: Int) {
        self.context = context
        self.commandBuffer = commandBuffer
        self.queryPool = queryPool
        self.queryCount = queryCount
    }

    deinit {
        context.freeCommandBuffer(commandBuffer)
        if let queryPool { context.device.destroyQueryPool(context.handle, queryPool, nil) }
    }
}

/// Device time of one submission: the whole command buffer and each timed dispatch, in nanoseconds.
struct GPUTimings {
    var total: Double
    var kernels: [(name: String, nanoseconds: Double)]
}

/// Records dispatches and copies into a command buffer, with a barrier after each so every command sees the
/// previous one's writes.
final class CommandRecorder {
    unowned let context: VulkanContext
    let commandBuffer: VkCommandBuffer
    /// Counts dispatches without recording anything.
    let dryRun: Bool
    private(set) var dispatches = 0
    var queryPool: VkQueryPool?
    var nextQuery = 0
    var timedNames: [String] = []

    init(context: VulkanContext, commandBuffer: VkCommandBuffer, dryRun: Bool) {
        self.context = context
        self.commandBuffer = commandBuffer
        self.dryRun = dryRun
    }

    /// Dispatches `pipeline` over `groups` workgroups (spread over two dimensions past the device's limit), with
    /// `buffers` bound in order and `constants` as push constants (32-bit words).
    func dispatch(_ pipeline: ComputePipeline, _ buffers: [BufferRange], _ constants: [UInt32], groups: Int) {
        precondition(buffers.count == pipeline.bindings, "\(pipeline.name) takes \(pipeline.bindings) buffers")
        guard groups > 0 else { return }
        dispatches += 1
        guard !dryRun else { return }
        let d = context.device
        d.cmdBindPipeline(commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline)
        var infos = buffers.map { range -> VkDescriptorBufferInfo in
            precondition(
                range.size <= context.maxBindingBytes,
                "\(pipeline.name): a binding of \(range.size) bytes exceeds the device's \(context.maxBindingBytes)")
            return VkDescriptorBufferInfo(
                buffer: range.buffer.buffer, offset: VkDeviceSize(range.offset), range: VkDeviceSize(range.size))
        }
        infos.withUnsafeMutableBufferPointer { infoPointer in
            var writes = (0..<buffers.count).map { b -> VkWriteDescriptorSet in
                var write = VkWriteDescriptorSet()
                write.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                write.dstBinding = UInt32(b)
                write.descriptorCount = 1
                write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                write.pBufferInfo = UnsafePointer(infoPointer.baseAddress! + b)
                return write
            }
            d.cmdPushDescriptorSet(
                commandBuffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, UInt32(writes.count), &writes)
        }
        var words = constants
        precondition(words.count <= 32, "at most 128 bytes of push constants")
        d.cmdPushConstants(
            commandBuffer, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0, UInt32(words.count * 4), &words)
        let x = min(groups, context.maxWorkgroupsPerDimension)
        let y = (groups + x - 1) / x
        let timed = queryPool != nil
        if timed {
            d.cmdWriteTimestamp(commandBuffer, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queryPool, UInt32(nextQuery))
        }
        d.cmdDispatch(commandBuffer, UInt32(x), UInt32(y), 1)
        if timed {
            d.cmdWriteTimestamp(
                commandBuffer, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queryPool, UInt32(nextQuery + 1))
            nextQuery += 2
            timedNames.append(pipeline.name)
        }
        barrier()
    }

    /// Copies `bytes` between buffers.
    func copy(from source: VulkanBuffer, _ sourceOffset: Int, to target: VulkanBuffer, _ targetOffset: Int, bytes: Int)
    {
        guard bytes > 0, !dryRun else { return }
        var region = VkBufferCopy(
            srcOffset: VkDeviceSize(sourceOffset), dstOffset: VkDeviceSize(targetOffset), size: VkDeviceSize(bytes))
        context.device.cmdCopyBuffer(commandBuffer, source.buffer, target.buffer, 1, &region)
        barrier()
    }

    /// Several copies between the same two buffers (`(sourceOffset, targetOffset, bytes)`).
    func copy(from source: VulkanBuffer, to target: VulkanBuffer, regions: [(Int, Int, Int)]) {
        var copies: [VkBufferCopy] = regions.filter { $0.2 > 0 }.map { (source, target, bytes) in
            VkBufferCopy(srcOffset: VkDeviceSize(source), dstOffset: VkDeviceSize(target), size: VkDeviceSize(bytes))
        }
        guard !copies.isEmpty, !dryRun else { return }
        context.device.cmdCopyBuffer(commandBuffer, source.buffer, target.buffer, UInt32(copies.count), &copies)
        barrier()
    }

    /// Makes every earlier shader write and copy visible to later shaders, copies and host reads.
    func barrier() {
        var memory = VkMemoryBarrier()
        memory.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        memory.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        memory.dstAccessMask =
            VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue
            | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
            | VK_ACCESS_HOST_READ_BIT.rawValue
        let stages =
            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue
        context.device.cmdPipelineBarrier(
            commandBuffer, stages, stages | VK_PIPELINE_STAGE_HOST_BIT.rawValue, 0, 1, &memory, 0, nil, 0, nil)
    }
}
