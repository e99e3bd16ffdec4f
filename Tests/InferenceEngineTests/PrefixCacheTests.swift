import InferenceTestSupport
import Testing

@testable import InferenceEngine

/// The prefix (KV) cache: restored prefixes give the output of a full prefill, restored counts are exact, eviction is
/// LRU over leaves within the budget, and hash collisions never restore another prefix's data.
@Suite struct PrefixCacheTests {
    static let layers = 2
    static let dimension = 8

    /// Distinct tokens `first ..< first + count` (the tiny vocabulary has more than 270 tokens).
    static func tokens(_ first: Int32, _ count: Int) -> [Int32] { (0..<Int32(count)).map { first + $0 } }

    /// What the synthetic caches hold for a position: a function of the prompt (`salt`), the token, the position,
    /// the layer and the dimension, exact in F32 (values are its negation).
    static func key(salt: Int, token: Int32, position: Int, layer: Int, d: Int) -> Float {
        Float(salt * 2048 + position * 16 + layer * 8 + d) + Float(token) / 512
    }

    /// A KV cache of the synthetic shape holding `tokens` as `key(...)` says.
    func filled(_ tokens: [Int32], salt: Int = 0, capacity: Int = 64) -> KVCache {
        let kv = KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: capacity)
        write(tokens, salt: salt, positions: 0..<tokens.count, into: kv)
        kv.advance(by: tokens.count)
        return kv
    }

    func write(_ tokens: [Int32], salt: Int, positions: Range<Int>, into kv: KVCache) {
        for l in 0..<Self.layers {
            for p in positions {
                for d in 0..<Self.dimension {
                    let v = Self.key(salt: salt, token: tokens[p], position: p, layer: l, d: d)
                    kv.keys(layer: l)[p * Self.dimension + d] = v
                    kv.values(layer: l)[p * Self.dimension + d] = -v
                }
            }
        }
    }

    /// Whether `kv` holds `tokens`' synthetic data (prompt `salt`) at `positions`.
    func holds(_ kv: KVCache, _ tokens: [Int32], salt: Int, positions: Range<Int>) -> Bool {
        for l in 0..<Self.layers {
            for p in positions {
                for d in 0..<Self.dimension {
                    let v = Self.key(salt: salt, token: tokens[p], position: p, layer: l, d: d)
                    if kv.keys(layer: l)[p * Self.dimension + d] != v { return false }
                    if kv.values(layer: l)[p * Self.dimension + d] != -v { return false }
                }
            }
        }
        return true
    }

    func prefixCache(blockTokens: Int = 4, budgetBlocks: Int = 100) -> PrefixCache {
        let bytes = 2 * Self.layers * blockTokens * Self.dimension * 4
        return PrefixCache(
            blockTokens: blockTokens, budgetBytes: budgetBlocks * bytes, layerCount: Self.layers,
            kvDimension: Self.dimension)
    }

    /// Restores into a fresh cache and returns the count.
    func restore(_ cache: PrefixCache, _ tokens: [Int32], capacity: Int = 64) -> Int {
        cache.restore(
            prefixOf: tokens, into: KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: capacity))
    }

    // MARK: same output with and without the cache

    func model(strategy: MatrixKernels.Strategy) throws -> TransformerModel {
        let path = try TinyModelFactory.path(type: .q8_0)
        let model = try TransformerModel(
            file: GGUFFile(path: path), threads: 2, contextLength: 128, backend: nil, packWeights: strategy == .simd)
        (model.backend as! CPUBackend).strategy = strategy
        return model
    }

    /// Last-position logits after running `tokens` on `kv`, then `count` greedy tokens.
    func continueGreedy(_ model: TransformerModel, _ tokens: [Int32], on kv: KVCache, count: Int)
        throws -> (logits: [Float], tokens: [Int32])
    {
        let buffers = ForwardBuffers(config: model.config)
        var logits = try model.forward(tokens: tokens, cache: kv, buffers: buffers)
        let first = Array(UnsafeBufferPointer(start: logits, count: model.vocabularySize))
        var sampler = Sampler(parameters: .greedy)
        var generated: [Int32] = []
        for _ in 0..<count {
            let token = sampler.sample(logits, count: model.vocabularySize)
            generated.append(token)
            logits = try model.forward(tokens: [token], cache: kv, buffers: buffers)
        }
        return (first, generated)
    }

    @Test(arguments: [MatrixKernels.Strategy.scalar, .simd])
    func restoredPrefixGivesTheOutputOfAFullPrefill(strategy: MatrixKernels.Strategy) throws {
        let model = try model(strategy: strategy)
        var random = TestRandom(state: 5)
        let prompt = (0..<37).map { _ in Int32(3 + random.next() % 260) }
        let full = model.makeCache()
        let expected = try continueGreedy(model, prompt, on: full, count: 8)
        #expect(full.count == 45)

        let cache = PrefixCache(model: model, budgetBytes: 1 << 20, blockTokens: 8)
        #expect(cache.blockBytes == 2 * model.config.layerCount * 8 * model.config.kvDimension * 4)
        // The prompt and its continuation (45 positions: 5 whole blocks).
        cache.store(tokens: prompt + expected.tokens, from: full)
        #expect(cache.statistics.blocks == 5)

        let kv = model.makeCache()
        let restored = cache.restore(prefixOf: prompt, into: kv)
        #expect(restored == 32 && kv.count == 32)
        let d = model.config.kvDimension
        for l in 0..<model.config.layerCount {
            #expect(
                Array(UnsafeBufferPointer(start: kv.keys(layer: l), count: 32 * d))
                    == Array(UnsafeBufferPointer(start: full.keys(layer: l), count: 32 * d)))
            #expect(
                Array(UnsafeBufferPointer(start: kv.values(layer: l), count: 32 * d))
                    == Array(UnsafeBufferPointer(start: full.values(layer: l), count: 32 * d)))
        }
        let cached = try continueGreedy(model, Array(prompt[32...]), on: kv, count: 8)
        #expect(cached.tokens == expected.tokens)
        if strategy == .scalar {
            // Each output element is computed the same way whatever the batch: bit for bit.
            #expect(cached.logits == expected.logits)
        } else {
            let scale = max(1, expected.logits.map { abs($0) }.max()!)
            let worst = zip(cached.logits, expected.logits).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * scale, "max difference \(worst)")
        }
        #expect(cache.statistics.lookups == 1 && cache.statistics.hits == 1 && cache.statistics.restoredTokens == 32)
    }

    // MARK: restored counts

    @Test func restoredCountsAreWholeBlocksLeaveATokenAndStopAtTheFirstDifference() {
        let cache = prefixCache(blockTokens: 4)
        let p = Self.tokens(10, 21)
        cache.store(tokens: p, from: filled(p))
        #expect(cache.statistics.blocks == 5 && cache.statistics.insertions == 5)
        #expect(cache.statistics.bytes == 5 * cache.blockBytes)

        var changed9 = p
        changed9[9] = 200
        var changed0 = p
        changed0[0] = 200
        var changed19 = p
        changed19[19] = 200
        let cases: [([Int32], Int)] = [
            (p, 20), (Array(p.prefix(20)), 16), (Array(p.prefix(17)), 16), (Array(p.prefix(16)), 12),
            (Array(p.prefix(5)), 4), (Array(p.prefix(4)), 0), ([], 0), (p + Self.tokens(100, 9), 20),
            (changed9, 8), (changed0, 0), (changed19, 16),
        ]
        for (tokens, count) in cases {
            #expect(cache.cachedPrefixLength(of: tokens) == count, "\(tokens.count) tokens")
            let kv = KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: 64)
            #expect(cache.restore(prefixOf: tokens, into: kv) == count, "\(tokens.count) tokens")
            #expect(kv.count == count)
            #expect(holds(kv, p, salt: 0, positions: 0..<count))
        }
        #expect(cache.statistics.lookups == cases.count)
        #expect(cache.statistics.hits == cases.filter { $0.1 > 0 }.count)
        #expect(cache.statistics.restoredTokens == cases.map(\.1).reduce(0, +))
        #expect(cache.statistics.hashCollisions == 0)

        // A cache too small for the blocks gets whole blocks only.
        #expect(restore(cache, p, capacity: 10) == 8)

        // A cache that already holds the first 6 positions: only positions 6..<20 are copied.
        let partial = KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: 64)
        write(p, salt: 1, positions: 0..<6, into: partial)
        partial.advance(by: 6)
        let restoredBefore = cache.statistics.restoredTokens
        #expect(cache.restore(prefixOf: p, into: partial) == 20)
        #expect(holds(partial, p, salt: 1, positions: 0..<6))
        #expect(holds(partial, p, salt: 0, positions: 6..<20))
        #expect(cache.statistics.restoredTokens == restoredBefore + 14)
        // Nothing cached past what the cache holds: unchanged, and not a hit.
        let hits = cache.statistics.hits
        #expect(cache.restore(prefixOf: p, into: filled(Array(p.prefix(20)), salt: 2)) == 20)
        #expect(cache.restore(prefixOf: p, into: filled(p, salt: 2)) == 21)
        #expect(cache.statistics.hits == hits)

        // Storing again adds nothing; a prompt sharing two blocks adds the other three.
        cache.store(tokens: p, from: filled(p))
        cache.store(tokens: Array(p.prefix(10)), from: filled(p))
        #expect(cache.statistics.blocks == 5 && cache.statistics.insertions == 5)
        cache.store(tokens: changed9, from: filled(changed9, salt: 3))
        #expect(cache.statistics.blocks == 8 && cache.statistics.insertions == 8)
        let kv = KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: 64)
        #expect(cache.restore(prefixOf: changed9, into: kv) == 20)
        #expect(holds(kv, p, salt: 0, positions: 0..<8))  // the shared blocks
        #expect(holds(kv, changed9, salt: 3, positions: 8..<20))
        // Only the positions the cache holds are stored.
        cache.store(tokens: Self.tokens(150, 30), from: filled(Self.tokens(150, 6)))
        #expect(cache.statistics.blocks == 9)

        cache.removeAll()
        #expect(cache.statistics.blocks == 0 && cache.statistics.bytes == 0)
        #expect(restore(cache, p) == 0)
    }

    // MARK: eviction

    @Test func evictionIsLeastRecentlyUsedAmongLeavesWithinTheBudget() {
        let cache = prefixCache(blockTokens: 4, budgetBlocks: 3)
        let x: [Int32] = [255]
        let a = Self.tokens(10, 8)  // two blocks: A0, A1
        let b = Self.tokens(30, 4)
        let c = Self.tokens(40, 4)
        let d = Self.tokens(50, 4)
        let e = Self.tokens(60, 4)
        cache.store(tokens: a, from: filled(a))
        cache.store(tokens: b, from: filled(b))
        #expect(cache.statistics.blocks == 3 && cache.statistics.evictions == 0)
        #expect(cache.statistics.bytes == cache.statistics.budgetBytes)
        #expect(restore(cache, a + x) == 8)
        #expect(restore(cache, b + x) == 4)
        // A0 is the least recently used block but A1 hangs from it: A1, the oldest leaf, goes.
        cache.store(tokens: c, from: filled(c))
        #expect(cache.statistics.evictions == 1 && cache.statistics.blocks == 3)
        #expect(cache.cachedPrefixLength(of: a + x) == 4)
        #expect(cache.cachedPrefixLength(of: b + x) == 4)
        #expect(cache.cachedPrefixLength(of: c + x) == 4)
        // Now A0 is a leaf, and the oldest.
        cache.store(tokens: d, from: filled(d))
        #expect(cache.statistics.evictions == 2)
        #expect(cache.cachedPrefixLength(of: a + x) == 0)
        // Using C makes B the oldest.
        #expect(restore(cache, c + x) == 4)
        cache.store(tokens: e, from: filled(e))
        #expect(cache.statistics.evictions == 3 && cache.statistics.insertions == 6)
        #expect(cache.cachedPrefixLength(of: b + x) == 0)
        for kept in [c, d, e] { #expect(cache.cachedPrefixLength(of: kept + x) == 4) }
        #expect(cache.statistics.blocks == 3 && cache.statistics.bytes == 3 * cache.blockBytes)
    }

    @Test func aPromptLongerThanTheBudgetKeepsItsHead() {
        let cache = prefixCache(blockTokens: 4, budgetBlocks: 2)
        let f = Self.tokens(10, 12)
        cache.store(tokens: f, from: filled(f))
        // F2 would need F1's room, but F1 is its parent: storing stops after two blocks.
        #expect(cache.statistics.blocks == 2 && cache.statistics.insertions == 2 && cache.statistics.evictions == 0)
        #expect(restore(cache, f) == 8)
        let g = Self.tokens(50, 4)
        cache.store(tokens: g, from: filled(g))
        #expect(cache.statistics.evictions == 1)
        #expect(cache.cachedPrefixLength(of: f) == 4)
        #expect(cache.cachedPrefixLength(of: g + [1]) == 4)
    }

    @Test func aBlockLargerThanTheBudgetIsNotStored() {
        let blockBytes = 2 * Self.layers * 4 * Self.dimension * 4
        let cache = PrefixCache(
            blockTokens: 4, budgetBytes: blockBytes - 1, layerCount: Self.layers, kvDimension: Self.dimension)
        #expect(cache.blockBytes == blockBytes)
        let p = Self.tokens(10, 9)
        cache.store(tokens: p, from: filled(p))
        #expect(cache.statistics.blocks == 0 && cache.statistics.insertions == 0 && cache.statistics.bytes == 0)
        #expect(cache.statistics.budgetBytes == blockBytes - 1)
        #expect(restore(cache, p) == 0)
        #expect(cache.statistics.lookups == 1 && cache.statistics.hits == 0)
    }

    // MARK: hash collisions

    @Test func collidingHashesNeverRestoreAnotherPrefix() {
        let cache = prefixCache(blockTokens: 4)
        cache.hashOverride = { _, _ in 42 }  // every block collides with every other
        let first = Self.tokens(10, 4)
        let other = Self.tokens(20, 4)
        let y = Self.tokens(30, 4)
        let z = Self.tokens(40, 4)
        let x: [Int32] = [255]
        // `a` and `b` share their second block's tokens but not its parent (nor its keys and values).
        let a = first + y
        let b = other + y
        let c = first + z
        cache.store(tokens: a, from: filled(a, salt: 1))
        cache.store(tokens: b, from: filled(b, salt: 2))
        cache.store(tokens: c, from: filled(c, salt: 3))
        #expect(cache.statistics.blocks == 5)  // first, other, first→y, other→y, first→z
        #expect(cache.statistics.hashCollisions > 0)
        for (tokens, salt) in [(a, 1), (b, 2)] {
            let kv = KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: 64)
            #expect(cache.restore(prefixOf: tokens + x, into: kv) == 8)
            #expect(holds(kv, tokens, salt: salt, positions: 0..<8))
        }
        let kv = KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: 64)
        #expect(cache.restore(prefixOf: c + x, into: kv) == 8)
        #expect(holds(kv, c, salt: 1, positions: 0..<4))  // `first` was stored with `a`
        #expect(holds(kv, c, salt: 3, positions: 4..<8))
        // Blocks whose tokens match under another parent, or do not match at all, are refused.
        #expect(restore(cache, other + z + x) == 4)
        #expect(restore(cache, y + x) == 0)
        #expect(restore(cache, Self.tokens(60, 9)) == 0)
    }

    @Test func chainedHashDependsOnTheWholePrefix() {
        let cache = prefixCache(blockTokens: 4)
        let y = Self.tokens(30, 4)
        let a = Self.tokens(10, 4) + y
        let b = Self.tokens(20, 4) + y
        cache.store(tokens: a, from: filled(a))
        cache.store(tokens: b, from: filled(b))
        #expect(cache.statistics.blocks == 4 && cache.statistics.hashCollisions == 0)
        let kv = KVCache(layerCount: Self.layers, kvDimension: Self.dimension, capacity: 64)
        #expect(cache.restore(prefixOf: b + [1], into: kv) == 8)
        #expect(holds(kv, b, salt: 0, positions: 0..<8))
        #expect(cache.chainedHash(parent: nil, tokens: y[...]) != cache.chainedHash(parent: nil, tokens: a[0..<4]))
    }
}
