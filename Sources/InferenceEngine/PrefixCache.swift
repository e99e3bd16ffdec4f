/// Keys and values of prompt prefixes kept across requests, so a prompt that starts like an earlier one only
/// prefills the unseen suffix.
///
/// The cache holds blocks of `blockTokens` consecutive positions: the keys and values of every layer for those
/// positions, plus the block's tokens. A block is found by a hash chained over the whole prefix (the parent block's
/// hash and this block's tokens); a hit also compares the stored tokens and the parent block, so a hash collision
/// can never restore another prefix's data. Blocks form a tree (a block's parent holds the positions before it) and
/// are shared read-only by every prompt with that prefix: restoring copies them into the sequence's `KVCache`.
///
/// Within `budgetBytes` (the keys and values held; bookkeeping is not counted), the least recently used block
/// without cached children is evicted first, so a block never outlives the parent it hangs from.
///
/// Not thread-safe: use it from the one inference thread that runs the model.
public final class PrefixCache {
    /// Positions per block.
    public let blockTokens: Int
    /// Most bytes of keys and values held.
    public let budgetBytes: Int
    public let layerCount: Int
    public let kvDimension: Int
    /// Bytes of keys and values in one block: `2 * layerCount * blockTokens * kvDimension * 4`.
    public let blockBytes: Int

    /// Counters since creation (or `removeAll`, which keeps the request counters).
    public struct Statistics: Sendable, Equatable {
        /// Calls to `restore`.
        public var lookups = 0
        /// Lookups that copied at least one position (restored at least one block, or its part past
        /// `cache.count`).
        public var hits = 0
        /// Positions copied into caches by `restore`.
        public var restoredTokens = 0
        /// Blocks held now.
        public var blocks = 0
        /// Bytes of keys and values held now (`blocks * blockBytes`).
        public var bytes = 0
        public var budgetBytes = 0
        /// Blocks dropped to make room.
        public var evictions = 0
        /// Blocks stored.
        public var insertions = 0
        /// Blocks found under a looked-up hash whose tokens or parent differ (a hash collision, refused).
        public var hashCollisions = 0

        public init() {}
    }

    public private(set) var statistics = Statistics()

    /// One cached block. `storage` holds the keys of every layer (`[layer][position][kvDimension]`), then the values;
    /// a block stored from a cache on a GPU is kept there instead (`deviceBlock`, and no host storage).
    final class Block {
        let hash: UInt64
        let tokens: [Int32]
        /// The block before this one; `nil` for a prompt's first block.
        let parent: Block?
        /// Index of the block in its prompt (its first position is `depth * blockTokens`).
        let depth: Int
        /// Cached blocks whose parent this is.
        var children = 0
        /// Recency stamp; higher is more recent.
        var lastUsed: UInt64 = 0
        let storage: UnsafeMutablePointer<Float>
        let deviceBlock: AnyObject?

        init(hash: UInt64, tokens: [Int32], parent: Block?, depth: Int, floats: Int, deviceBlock: AnyObject? = nil) {
            self.hash = hash
            self.tokens = tokens
            self.parent = parent
            self.depth = depth
            self.deviceBlock = deviceBlock
            storage = .allocate(capacity: deviceBlock == nil ? floats : 1)
        }

        deinit { storage.deallocate() }
    }

    /// Blocks by chained hash (a list, so colliding blocks can coexist).
    private var index: [UInt64: [Block]] = [:]
    private var clock: UInt64 = 0
    /// Replaces the chained hash (tests force collisions with it). Set it before storing anything.
    var hashOverride: ((_ parentHash: UInt64, _ tokens: ArraySlice<Int32>) -> UInt64)?

    /// - Parameters:
    ///   - blockTokens: positions per block (at least 1).
    ///   - budgetBytes: most bytes of keys and values to hold; blocks larger than this are never stored.
    public init(blockTokens: Int = 32, budgetBytes: Int, layerCount: Int, kvDimension: Int) {
        precondition(blockTokens > 0 && layerCount > 0 && kvDimension > 0 && budgetBytes >= 0)
        self.blockTokens = blockTokens
        self.budgetBytes = budgetBytes
        self.layerCount = layerCount
        self.kvDimension = kvDimension
        blockBytes = 2 * layerCount * blockTokens * kvDimension * MemoryLayout<Float>.size
        statistics.budgetBytes = budgetBytes
    }

    /// A cache for `model`'s key/value shape.
    public convenience init(model: TransformerModel, budgetBytes: Int, blockTokens: Int = 32) {
        self.init(
            blockTokens: blockTokens, budgetBytes: budgetBytes, layerCount: model.config.layerCount,
            kvDimension: model.config.kvDimension)
    }

    /// Copies the longest cached run of whole blocks that prefixes `tokens` into `cache`, leaving at least one
    /// token to run (at most `tokens.count - 1` positions, and no more than `cache.capacity`).
    ///
    /// `cache` must hold the keys and values of `tokens[0..<cache.count]` (usually `cache.count` is 0); only
    /// positions from `cache.count` on are copied.
    /// - Returns: the number of positions valid in `cache` afterwards (`cache.count`): a multiple of
    ///   `blockTokens`, or the unchanged count when no cached block reaches past it.
    @discardableResult
    public func restore(prefixOf tokens: [Int32], into cache: KVCache) -> Int {
        checkShape(cache)
        statistics.lookups += 1
        let start = cache.count
        let chain = lookup(tokens, limit: min(tokens.count - 1, cache.capacity))
        let end = chain.count * blockTokens
        guard end > start else { return start }
        for block in chain { touch(block) }
        let b = blockTokens
        let d = kvDimension
        for block in chain[(start / b)...] {
            let first = max(start, block.depth * b)
            let skip = first - block.depth * b
            let floats = (b - skip) * d
            if let deviceBlock = block.deviceBlock {
                // Kept on the GPU: copied there, device to device.
                guard let device = cache.device,
                    device.restoreBlock(deviceBlock, skip: skip, count: b - skip, at: first)
                else {
                    // A cache without device storage (the device could not give it any), or a failed copy: the
                    // positions restored so far stand, the rest is prefilled.
                    return finishRestore(cache, from: start, to: first)
                }
                continue
            }
            for l in 0..<layerCount {
                (cache.keys(layer: l) + first * d).update(from: keys(block, layer: l) + skip * d, count: floats)
                (cache.values(layer: l) + first * d).update(from: values(block, layer: l) + skip * d, count: floats)
            }
            // A cache that lives on a GPU takes these positions from its host copy.
            if let device = cache.device, !device.upload(positions: first..<(first + b - skip)) {
                return finishRestore(cache, from: start, to: first)
            }
        }
        return finishRestore(cache, from: start, to: end)
    }

    /// Marks positions `start..<end` restored and counts the lookup.
    private func finishRestore(_ cache: KVCache, from start: Int, to end: Int) -> Int {
        guard end > start else { return start }
        cache.advance(by: end - start)
        statistics.hits += 1
        statistics.restoredTokens += end - start
        return end
    }

    /// How many positions `restore` would provide for `tokens` (a multiple of `blockTokens`, at most
    /// `tokens.count - 1`), without copying, counting or refreshing anything.
    public func cachedPrefixLength(of tokens: [Int32]) -> Int {
        lookup(tokens, limit: tokens.count - 1, counting: false).count * blockTokens
    }

    /// Stores every whole block of the first `min(tokens.count, cache.count)` positions that is not cached yet;
    /// `cache` holds their keys and values. Blocks already cached count as used. Stops at the first block that
    /// does not fit in the budget even after evicting (its parent and ancestors, which it needs, are never
    /// evicted for it).
    public func store(tokens: [Int32], from cache: KVCache) {
        checkShape(cache)
        guard blockBytes <= budgetBytes else { return }
        let b = blockTokens
        let d = kvDimension
        let blocks = min(tokens.count, cache.count) / b
        var chain: [Block] = []
        for i in 0..<blocks {
            let slice = tokens[(i * b)..<((i + 1) * b)]
            let parent = chain.last
            let hash = chainedHash(parent: parent, tokens: slice)
            if let found = find(hash: hash, parent: parent, tokens: slice) {
                touch(found)
                chain.append(found)
                continue
            }
            while statistics.bytes + blockBytes > budgetBytes {
                guard let victim = leastRecentlyUsedLeaf(sparing: parent) else { return }
                evict(victim)
            }
            var deviceBlock: AnyObject?
            if let device = cache.device {
                // A block the device cannot hold (its memory is full) is not cached.
                guard let stored = device.storeBlock(positions: (i * b)..<((i + 1) * b)) else { return }
                deviceBlock = stored
            }
            let block = Block(
                hash: hash, tokens: Array(slice), parent: parent, depth: i, floats: 2 * layerCount * b * d,
                deviceBlock: deviceBlock)
            if block.deviceBlock == nil {
                for l in 0..<layerCount {
                    keys(block, layer: l).update(from: cache.keys(layer: l) + i * b * d, count: b * d)
                    values(block, layer: l).update(from: cache.values(layer: l) + i * b * d, count: b * d)
                }
            }
            index[hash, default: []].append(block)
            parent?.children += 1
            touch(block)
            statistics.blocks += 1
            statistics.bytes += blockBytes
            statistics.insertions += 1
            chain.append(block)
        }
    }

    /// Drops every block (the request counters stay).
    public func removeAll() {
        index = [:]
        statistics.blocks = 0
        statistics.bytes = 0
    }

    // MARK: internals

    private func checkShape(_ cache: KVCache) {
        precondition(
            cache.layerCount == layerCount && cache.kvDimension == kvDimension,
            "KV cache shape \(cache.layerCount)x\(cache.kvDimension) does not match the prefix cache's "
                + "\(layerCount)x\(kvDimension)")
    }

    private func keys(_ block: Block, layer: Int) -> UnsafeMutablePointer<Float> {
        block.storage + layer * blockTokens * kvDimension
    }

    private func values(_ block: Block, layer: Int) -> UnsafeMutablePointer<Float> {
        block.storage + (layerCount + layer) * blockTokens * kvDimension
    }

    /// The cached blocks prefixing `tokens`, first block first, covering at most `limit` positions.
    private func lookup(_ tokens: [Int32], limit: Int, counting: Bool = true) -> [Block] {
        var chain: [Block] = []
        let b = blockTokens
        var i = 0
        while (i + 1) * b <= limit {
            let slice = tokens[(i * b)..<((i + 1) * b)]
            let parent = chain.last
            let hash = chainedHash(parent: parent, tokens: slice)
            guard let found = find(hash: hash, parent: parent, tokens: slice, counting: counting) else { break }
            chain.append(found)
            i += 1
        }
        return chain
    }

    /// The block with this hash whose parent and tokens match; others under the hash are counted as collisions.
    private func find(hash: UInt64, parent: Block?, tokens: ArraySlice<Int32>, counting: Bool = true) -> Block? {
        guard let candidates = index[hash] else { return nil }
        for block in candidates where block.parent === parent && block.tokens.elementsEqual(tokens) {
            return block
        }
        if counting { statistics.hashCollisions += 1 }
        return nil
    }

    /// Hash of a block given its parent's hash: 64-bit mixing of each token into the running value.
    func chainedHash(parent: Block?, tokens: ArraySlice<Int32>) -> UInt64 {
        let seed = parent?.hash ?? 0x5052_4546_4958  // "PREFIX"
        if let hashOverride { return hashOverride(seed, tokens) }
        var h = seed
        for t in tokens {
            h = (h ^ UInt64(UInt32(bitPattern: t))) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 27)
    }

    private func touch(_ block: Block) {
        clock += 1
        block.lastUsed = clock
    }

    /// The least recently used block without cached children, other than `spared` (the parent of the block being
    /// stored; its own ancestors all have a child).
    private func leastRecentlyUsedLeaf(sparing spared: Block?) -> Block? {
        var best: Block?
        for bucket in index.values {
            for block in bucket where block.children == 0 && block !== spared {
                if best == nil || block.lastUsed < best!.lastUsed { best = block }
            }
        }
        return best
    }

    private func evict(_ block: Block) {
        precondition(block.children == 0)
        index[block.hash]?.removeAll { $0 === block }
        if index[block.hash]?.isEmpty == true { index[block.hash] = nil }
        block.parent?.children -= 1
        statistics.blocks -= 1
        statistics.bytes -= blockBytes
        statistics.evictions += 1
    }
}
