/// The attention keys and values of one sequence, for every layer, in F32.
///
/// Positions `0..<count` are valid. `truncate(to:)` drops the tail (used to roll back rejected speculative tokens or
/// to reuse a shared prompt prefix). Storage for the full capacity is reserved up front but the operating system only
/// backs the pages that are written, so a long context costs memory only when it is used.
public final class KVCache {
    public let layerCount: Int
    public let kvDimension: Int
    /// Maximum number of positions.
    public let capacity: Int
    /// Number of valid positions.
    public private(set) var count = 0
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    /// Set when the cache's positions live on a GPU (a `ModelAccelerator` attaches it on the cache's first forward
    /// pass): the host storage then holds only what `download` copied there or `upload` is to send, and the device
    /// state is released with the cache.
    public var device: KVCacheDevice?

    public init(layerCount: Int, kvDimension: Int, capacity: Int) {
        self.layerCount = layerCount
        self.kvDimension = kvDimension
        self.capacity = capacity
        let size = layerCount * kvDimension * capacity
        keys = .allocate(capacity: max(1, size))
        values = .allocate(capacity: max(1, size))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Keys of `layer`, laid out `[position][kvDimension]`.
    @inline(__always)
    public func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * kvDimension * capacity }

    /// Values of `layer`, laid out `[position][kvDimension]`.
    @inline(__always)
    public func values(layer: Int) -> UnsafeMutablePointer<Float> { values + layer * kvDimension * capacity }

    /// Forgets positions from `newCount` on.
    public func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count, "cannot truncate a KV cache of \(count) to \(newCount)")
        count = newCount
    }

    /// Host storage of every layer's keys, laid out `[layer][capacity][kvDimension]` (a GPU cache's staging copy).
    public var hostKeys: UnsafeMutablePointer<Float> { keys }

    /// Host storage of every layer's values, laid out as `hostKeys`.
    public var hostValues: UnsafeMutablePointer<Float> { values }

    /// Marks `n` more positions valid (after the forward pass wrote them).
    func advance(by n: Int) {
        precondition(count + n <= capacity)
        count += n
    }
}

/// A KV cache's storage on a GPU, attached by the accelerator that runs the model there.
///
/// Each copy returns false (or nil) when the device failed it: the caller then does without (a prefix cache
/// miss), and a device that is gone fails the next forward pass with its error.
public protocol KVCacheDevice: AnyObject {
    /// Copies `positions` of every layer's keys and values from the device to the cache's host storage.
    @discardableResult func download(positions: Range<Int>) -> Bool
    /// Copies `positions` of every layer's keys and values from the cache's host storage to the device.
    @discardableResult func upload(positions: Range<Int>) -> Bool
    /// A copy, in device memory, of `positions` of every layer's keys and values (a prefix cache block); the
    /// device memory is freed with the returned object.
    func storeBlock(positions: Range<Int>) -> AnyObject?
    /// Copies `count` positions of a block from `storeBlock` (of a cache of the same model), starting at its
    /// position `skip`, into this cache at `position`.
    func restoreBlock(_ block: AnyObject, skip: Int, count: Int, at position: Int) -> Bool
}
