import NIOConcurrencyHelpers

/// An in-memory, thread-safe LRU of completed generations, keyed by everything in a request that
/// determines what an engine produces (see `Key`).
///
/// - Bounds: at most `maxEntries` entries and `maxBytes` bytes (an estimate: the key's prompt text, token
///   ids and model name, each piece's text, plus fixed per-entry and per-piece overheads; see `byteCount`).
///   Storing past a bound evicts the least recently used entries; an entry larger than `maxBytes` is not stored.
/// - Expiry: an entry expires `ttl` after it was stored (a hit does not extend it). Expired entries are
///   dropped when looked up, before each store, and when `statistics` is read; each counts in `expired`.
/// - Time: `nowNanos` (CLOCK_MONOTONIC by default), injectable for tests.
public final class ResponseCache: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Most entries held; 0 or less stores nothing.
        public var maxEntries: Int
        /// Most bytes held (as `byteCount` estimates them); 0 or less stores nothing.
        public var maxBytes: Int
        /// How long an entry stays valid after it is stored; nil: until evicted. Zero or less: entries
        /// expire at once (nothing is ever served).
        public var ttl: Duration?

        public init(maxEntries: Int = 1024, maxBytes: Int = 64 << 20, ttl: Duration? = .seconds(3600)) {
            self.maxEntries = maxEntries
            self.maxBytes = maxBytes
            self.ttl = ttl
        }
    }

    /// What makes two generations equal: the model, the prompt (templated text and token ids), the
    /// completion bound (and whether the client set it, which changes the finish reason), `ignore_eos`
    /// and the sampling parameters. Not the request id or arrival time. Stop sequences are applied by the HTTP
    /// layer to what the engine yields, so they are not part of the key.
    public struct Key: Hashable, Sendable {
        public var modelName: String
        public var promptText: String
        public var promptTokenIDs: [Int32]
        public var promptTokenCount: Int
        public var maxTokens: Int
        public var maxTokensRequested: Bool
        public var temperature: Double?
        public var topP: Double?
        public var seed: UInt64?
        public var ignoreEOS: Bool
        /// Chat answers may hold reasoning and tool calls that a text completion of the same prompt does not.
        public var isChat: Bool

        public init(modelName: String, request: GenerationRequest) {
            self.modelName = modelName
            self.promptText = request.prompt.text
            self.promptTokenIDs = request.prompt.tokenIDs
            self.promptTokenCount = request.prompt.tokenCount
            self.maxTokens = request.maxTokens
            self.maxTokensRequested = request.maxTokensRequested
            self.temperature = request.temperature
            self.topP = request.topP
            self.seed = request.seed
            self.ignoreEOS = request.ignoreEOS
            self.isChat = request.isChat
        }

        /// Estimated bytes the key holds.
        public var byteCount: Int {
            ResponseCache.entryOverheadBytes + modelName.utf8.count + promptText.utf8.count
                + promptTokenIDs.count * MemoryLayout<Int32>.size
        }
    }

    /// A completed generation: every piece the engine yielded, in order, and its finish.
    public struct Generation: Sendable, Equatable {
        public var pieces: [GeneratedPiece]
        public var finish: GenerationFinish

        public init(pieces: [GeneratedPiece], finish: GenerationFinish) {
            self.pieces = pieces
            self.finish = finish
        }

        /// Estimated bytes the generation holds.
        public var byteCount: Int {
            var bytes = 0
            for piece in pieces { bytes += ResponseCache.bytes(of: piece) }
            for key in finish.usageDetails.extra.keys { bytes += key.utf8.count + ResponseCache.pieceOverheadBytes }
            return bytes
        }
    }

    /// Counters since the cache was made, and its current size.
    public struct Statistics: Sendable, Equatable {
        public var hits: UInt64 = 0
        public var misses: UInt64 = 0
        public var stores: UInt64 = 0
        /// Entries dropped to make room (entry or byte bound).
        public var evictions: UInt64 = 0
        /// Entries dropped because their `ttl` had passed.
        public var expired: UInt64 = 0
        public var entries: Int = 0
        public var bytes: Int = 0

        public init() {}
    }

    /// Fixed bytes counted per entry (bookkeeping, key fields) and per piece (its count and string header).
    public static let entryOverheadBytes = 128
    public static let pieceOverheadBytes = 24

    public let configuration: Configuration
    private let nowNanos: @Sendable () -> UInt64
    private let state: NIOLockedValueBox<LRUState>

    public init(
        configuration: Configuration = Configuration(),
        nowNanos: @escaping @Sendable () -> UInt64 = { MonotonicClock.nowNanos() }
    ) {
        self.configuration = configuration
        self.nowNanos = nowNanos
        self.state = NIOLockedValueBox(LRUState(ttlNanos: configuration.ttl.map(\.wholeNanoseconds)))
    }

    /// The stored generation for `key`, counted as a hit (and made most recently used), or nil, counted as
    /// a miss (an expired entry is dropped and is a miss).
    public func lookup(_ key: Key) -> Generation? {
        let now = nowNanos()
        return state.withLockedValue { state in
            guard let slot = state.index[key] else {
                state.statistics.misses += 1
                return nil
            }
            if state.isExpired(slot, now: now) {
                state.remove(slot)
                state.statistics.expired += 1
                state.statistics.misses += 1
                return nil
            }
            state.statistics.hits += 1
            state.touch(slot)
            return state.slots[slot].generation
        }
    }

    /// Stores `generation` under `key` (replacing any entry there), evicting least recently used entries
    /// until both bounds hold. Returns false, storing nothing, when the entry alone exceeds a bound.
    @discardableResult
    public func store(_ generation: Generation, for key: Key) -> Bool {
        let bytes = key.byteCount + generation.byteCount
        guard configuration.maxEntries > 0, bytes <= configuration.maxBytes else { return false }
        let now = nowNanos()
        return state.withLockedValue { state in
            state.removeExpired(now: now)
            if let existing = state.index[key] { state.remove(existing) }
            while state.statistics.entries >= configuration.maxEntries
                || state.statistics.bytes + bytes > configuration.maxBytes,
                state.lruTail >= 0
            {
                state.remove(state.lruTail)
                state.statistics.evictions += 1
            }
            state.insert(key: key, generation: generation, bytes: bytes, now: now)
            state.statistics.stores += 1
            return true
        }
    }

    /// Counters and size, after dropping expired entries.
    public var statistics: Statistics {
        let now = nowNanos()
        return state.withLockedValue { state in
            state.removeExpired(now: now)
            return state.statistics
        }
    }

    /// Keys from most to least recently used (for tests and diagnostics).
    public var keysByRecency: [Key] {
        state.withLockedValue { state in
            var keys: [Key] = []
            var slot = state.lruHead
            while slot >= 0 {
                if let key = state.slots[slot].key { keys.append(key) }
                slot = state.slots[slot].lruNext
            }
            return keys
        }
    }

    static func bytes(of piece: GeneratedPiece) -> Int {
        guard case .toolCall(let id, let name) = piece.kind else { return pieceOverheadBytes + piece.text.utf8.count }
        return pieceOverheadBytes + piece.text.utf8.count + id.utf8.count + name.utf8.count
    }
}

/// Entries in a slot array threaded by two doubly linked lists: recency (head = most recently used) and
/// age (head = oldest store). With one `ttl` for all entries the age list is also expiry order, so
/// dropping expired entries only looks at its head.
private struct LRUState: Sendable {
    struct Slot: Sendable {
        var key: ResponseCache.Key?
        var generation: ResponseCache.Generation?
        var bytes = 0
        var expiresAtNanos: UInt64?
        var lruPrev = -1
        var lruNext = -1
        var agePrev = -1
        var ageNext = -1
    }

    let ttlNanos: UInt64?
    var slots: [Slot] = []
    var free: [Int] = []
    var index: [ResponseCache.Key: Int] = [:]
    var lruHead = -1
    var lruTail = -1
    var ageHead = -1
    var ageTail = -1
    var statistics = ResponseCache.Statistics()

    init(ttlNanos: UInt64?) {
        self.ttlNanos = ttlNanos
    }

    func isExpired(_ slot: Int, now: UInt64) -> Bool {
        guard let expires = slots[slot].expiresAtNanos else { return false }
        return now >= expires
    }

    mutating func removeExpired(now: UInt64) {
        while ageHead >= 0, isExpired(ageHead, now: now) {
            remove(ageHead)
            statistics.expired += 1
        }
    }

    mutating func insert(key: ResponseCache.Key, generation: ResponseCache.Generation, bytes: Int, now: UInt64) {
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
        } else {
            slot = slots.count
            slots.append(Slot())
        }
        var expires: UInt64?
        if let ttlNanos {
            let (sum, overflow) = now.addingReportingOverflow(ttlNanos)
            expires = overflow ? UInt64.max : sum
        }
        slots[slot] = Slot(
            key: key, generation: generation, bytes: bytes, expiresAtNanos: expires, lruPrev: -1, lruNext: lruHead,
            agePrev: ageTail, ageNext: -1)
        if lruHead >= 0 { slots[lruHead].lruPrev = slot } else { lruTail = slot }
        lruHead = slot
        if ageTail >= 0 { slots[ageTail].ageNext = slot } else { ageHead = slot }
        ageTail = slot
        index[key] = slot
        statistics.entries += 1
        statistics.bytes += bytes
    }

    mutating func remove(_ slot: Int) {
        unlinkRecency(slot)
        let agePrev = slots[slot].agePrev
        let ageNext = slots[slot].ageNext
        if agePrev >= 0 { slots[agePrev].ageNext = ageNext } else { ageHead = ageNext }
        if ageNext >= 0 { slots[ageNext].agePrev = agePrev } else { ageTail = agePrev }
        if let key = slots[slot].key { index[key] = nil }
        statistics.entries -= 1
        statistics.bytes -= slots[slot].bytes
        slots[slot] = Slot()
        free.append(slot)
    }

    /// Makes `slot` the most recently used.
    mutating func touch(_ slot: Int) {
        guard lruHead != slot else { return }
        unlinkRecency(slot)
        slots[slot].lruPrev = -1
        slots[slot].lruNext = lruHead
        if lruHead >= 0 { slots[lruHead].lruPrev = slot } else { lruTail = slot }
        lruHead = slot
    }

    private mutating func unlinkRecency(_ slot: Int) {
        let prev = slots[slot].lruPrev
        let next = slots[slot].lruNext
        if prev >= 0 { slots[prev].lruNext = next } else { lruHead = next }
        if next >= 0 { slots[next].lruPrev = prev } else { lruTail = prev }
        slots[slot].lruPrev = -1
        slots[slot].lruNext = -1
    }
}
