import Foundation
import InferenceEngine

/// Every sequence's keys and values on the device: per layer, one key buffer and one value buffer of `slots`
/// regions of `positions × kvDimension` floats. A `KVCache` takes a slot on its first forward pass and gives it
/// back when it is freed. The pool grows (doubling, copying device-side) when every slot is taken.
final class KVPool {
    let context: VulkanContext
    let layers: Int
    let kvDimension: Int
    /// Positions per slot: the model's context length.
    let positions: Int
    private(set) var slots = 0
    private(set) var keys: [VulkanBuffer] = []
    private(set) var values: [VulkanBuffer] = []
    private var free: [Int] = []
    /// Prefix cache blocks stored on the device and restored from it, since creation.
    var blocksStored = 0
    var blocksRestored = 0
    private let lock = NSLock()

    var slotBytes: Int { positions * kvDimension * 4 }
    var layerBytes: Int { slots * slotBytes }
    /// One binding covers every slot of a layer: a dispatch can serve rows of any sequences.
    var bindsWhole: Bool { layerBytes <= context.maxBindingBytes }

    init(context: VulkanContext, layers: Int, kvDimension: Int, positions: Int) throws {
        self.context = context
        self.layers = layers
        self.kvDimension = kvDimension
        self.positions = positions
        guard positions * kvDimension * 4 <= context.maxBindingBytes else {
            throw VulkanError.doesNotFit(
                "a sequence's keys of one layer (\(positions) positions × \(kvDimension) floats) exceed the "
                    + "device's binding range (\(context.maxBindingBytes) bytes): use a shorter --context-length")
        }
    }

    /// A free slot, growing the pool when none is left.
    func acquire() throws -> Int {
        lock.lock()
        if let slot = free.popLast() {
            lock.unlock()
            return slot
        }
        lock.unlock()
        let old = slots
        let grown = max(1, old * 2)
        var newKeys: [VulkanBuffer] = []
        var newValues: [VulkanBuffer] = []
        for _ in 0..<layers {
            newKeys.append(try context.buffer(size: grown * slotBytes, placement: .device))
            newValues.append(try context.buffer(size: grown * slotBytes, placement: .device))
        }
        if old > 0 {
            try context.submit { recorder in
                for l in 0..<layers {
                    recorder.copy(from: keys[l], 0, to: newKeys[l], 0, bytes: old * slotBytes)
                    recorder.copy(from: values[l], 0, to: newValues[l], 0, bytes: old * slotBytes)
                }
            }
        }
        keys = newKeys
        values = newValues
        slots = grown
        lock.lock()
        free.append(contentsOf: (old + 1..<grown).reversed())
        lock.unlock()
        return old
    }

    func release(_ slot: Int) {
        lock.lock()
        free.append(slot)
        lock.unlock()
    }
}

/// A `KVCache`'s slot in the pool: its `device`.
final class KVSlot: KVCacheDevice {
    weak var pool: KVPool?
    let slot: Int
    private let hostKeys: UnsafeMutablePointer<Float>
    private let hostValues: UnsafeMutablePointer<Float>
    private let hostCapacity: Int

    init(pool: KVPool, slot: Int, cache: KVCache) {
        self.pool = pool
        self.slot = slot
        hostKeys = cache.hostKeys
        hostValues = cache.hostValues
        hostCapacity = cache.capacity
    }

    deinit { pool?.release(slot) }

    /// The slot's first float in a layer's buffer.
    var base: Int { slot * (pool?.positions ?? 0) * (pool?.kvDimension ?? 0) }

    func download(positions: Range<Int>) -> Bool { (try? transfer(positions, toHost: true)) != nil }

    func upload(positions: Range<Int>) -> Bool { (try? transfer(positions, toHost: false)) != nil }

    /// A prefix cache block on the device: per layer, the keys then the values of its positions.
    final class Block {
        let buffer: VulkanBuffer
        let positions: Int
        init(buffer: VulkanBuffer, positions: Int) {
            self.buffer = buffer
            self.positions = positions
        }
    }

    func storeBlock(positions: Range<Int>) -> AnyObject? {
        guard let pool else { return nil }
        let bytes = positions.count * pool.kvDimension * 4
        do {
            let block = Block(
                buffer: try pool.context.buffer(size: 2 * pool.layers * bytes, placement: .device),
                positions: positions.count)
            let slotOffset = (base + positions.lowerBound * pool.kvDimension) * 4
            try pool.context.submit { recorder in
                for l in 0..<pool.layers {
                    recorder.copy(from: pool.keys[l], slotOffset, to: block.buffer, 2 * l * bytes, bytes: bytes)
                    recorder.copy(from: pool.values[l], slotOffset, to: block.buffer, (2 * l + 1) * bytes, bytes: bytes)
                }
            }
            pool.blocksStored += 1
            return block
        } catch {
            // Out of device memory, most likely: the block is not cached.
            return nil
        }
    }

    func restoreBlock(_ stored: AnyObject, skip: Int, count: Int, at position: Int) -> Bool {
        guard let pool, let block = stored as? Block else { return false }
        let d = pool.kvDimension
        let blockBytes = block.positions * d * 4
        let bytes = count * d * 4
        let slotOffset = (base + position * d) * 4
        do {
            try pool.context.submit { recorder in
                for l in 0..<pool.layers {
                    recorder.copy(
                        from: block.buffer, 2 * l * blockBytes + skip * d * 4, to: pool.keys[l], slotOffset,
                        bytes: bytes)
                    recorder.copy(
                        from: block.buffer, (2 * l + 1) * blockBytes + skip * d * 4, to: pool.values[l], slotOffset,
                        bytes: bytes)
                }
            }
            pool.blocksRestored += 1
            return true
        } catch {
            return false
        }
    }

    /// Copies `positions` of every layer between the slot and the cache's host storage.
    func transfer(_ positions: Range<Int>, toHost: Bool) throws {
        guard let pool else { throw VulkanError.unsupported("the model this KV cache belonged to is gone") }
        guard !positions.isEmpty else { return }
        let context = pool.context
        let d = pool.kvDimension
        let bytes = positions.count * d * 4
        let layers = pool.layers
        let staging = try context.buffer(size: 2 * layers * bytes, placement: toHost ? .download : .upload)
        let device = base * 4 + positions.lowerBound * d * 4
        func host(_ l: Int, _ k: Int) -> UnsafeMutablePointer<Float> {
            (k == 0 ? hostKeys : hostValues) + l * hostCapacity * d + positions.lowerBound * d
        }
        if !toHost {
            for l in 0..<layers {
                for k in 0..<2 {
                    (staging.mapped! + (2 * l + k) * bytes).copyMemory(from: host(l, k), byteCount: bytes)
                }
            }
        }
        try context.submit { recorder in
            for l in 0..<layers {
                for (k, buffer) in [pool.keys[l], pool.values[l]].enumerated() {
                    let s = (2 * l + k) * bytes
                    if toHost {
                        recorder.copy(from: buffer, device, to: staging, s, bytes: bytes)
                    } else {
                        recorder.copy(from: staging, s, to: buffer, device, bytes: bytes)
                    }
                }
            }
        }
        if toHost {
            for l in 0..<layers {
                for k in 0..<2 {
                    UnsafeMutableRawPointer(host(l, k)).copyMemory(
                        from: staging.mapped! + (2 * l + k) * bytes, byteCount: bytes)
                }
            }
        }

    }
}
