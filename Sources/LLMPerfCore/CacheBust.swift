import Foundation

/// `workload.cache_bust`: a nonce put before each prompt's first text so the server's prefix
/// cache, warmed by an earlier run (or another client), cannot serve this run's prompts.
///
/// - `none`: prompts go as written.
/// - `per_run`: a nonce for the run: a rerun misses the cache the last run left, while the run's
///   own requests still share what they share by design (a session's history, a common system
///   prompt, a prompt sent twice). Within a run the nonce follows the prompt's first text (its
///   system message, else its conversation's first question): prompts that begin alike get the
///   same nonce, prompts that begin differently get different ones. One nonce for all would be a
///   prefix shared by every request of the run, which a cache with small blocks (or none: a radix
///   tree) would serve.
/// - `per_request`: a nonce of its own for every request: nothing is shared, not even between the
///   turns of one conversation.
///
/// The nonce is a function of the run's id (and the request's index), so a stored run says which
/// nonce each of its requests carried; it changes from run to run, which is its purpose. A prefix
/// cache matches from the first token: a nonce at the very start of the text makes the whole
/// prompt a miss (a chat template's fixed opening tokens come before it, but they are fewer than
/// one cache block on the servers this was checked against).
public enum CacheBust: String, Sendable, Equatable, Codable, CaseIterable {
    case none
    case perRun = "per_run"
    case perRequest = "per_request"

    /// The nonce of `prompt` in run `runKey` as request `index`; nil for `none`.
    public func nonce(runKey: UInt64, index: Int, prompt: Prompt) -> String? {
        switch self {
        case .none: return nil
        case .perRun: return Self.text(Self.mix(runKey, Self.fnv(prompt.firstText) | 1 << 63))
        case .perRequest: return Self.text(Self.mix(runKey, UInt64(truncatingIfNeeded: index)))
        }
    }

    /// A run's key: FNV-1a of its id.
    public static func runKey(_ runID: String) -> UInt64 { fnv(runID) }

    private static func fnv(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    private static func mix(_ key: UInt64, _ index: UInt64) -> UInt64 {
        var x = key &+ 0x9E37_79B9_7F4A_7C15 &* (index &+ 1)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    private static func text(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return "[nonce " + String(repeating: "0", count: 16 - hex.count) + hex + "]\n"
    }
}

extension Prompt {
    /// What the prompt begins with: its system message, else its conversation's first question,
    /// else its user text.
    public var firstText: String { system ?? history.first?.user ?? user }

    /// The prompt with `nonce` before its first text: the system message if it has one, else the
    /// conversation's first user message, else its user text.
    public func prefixed(with nonce: String) -> Prompt {
        var prompt = self
        if let system {
            prompt.system = nonce + system
        } else if !prompt.history.isEmpty {
            prompt.history[0].user = nonce + prompt.history[0].user
        } else {
            prompt.user = nonce + user
        }
        return prompt
    }
}

/// The share of a run's prompt tokens the server said it served from its prefix cache
/// (OpenAI-style `usage.prompt_tokens_details.cached_tokens`, Anthropic
/// `cache_read_input_tokens`, llama.cpp `timings.cache_n`), over the successful measured
/// requests whose response said it at all.
public struct PromptCacheShare: Sendable, Equatable, Codable {
    /// Requests whose response gave a cached-token count (0 included).
    public var requests: Int
    /// Their prompt tokens, and how many of those were cached.
    public var promptTokens: Int
    public var cachedTokens: Int

    public init(requests: Int = 0, promptTokens: Int = 0, cachedTokens: Int = 0) {
        self.requests = requests
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
    }

    public var share: Double { promptTokens == 0 ? 0 : Double(cachedTokens) / Double(promptTokens) }

    /// The cached tokens a trace reports, if its response said: the usage's count, else the
    /// server's timings (llama.cpp's `cache_n`).
    public static func cachedTokens(of trace: RequestTrace) -> Int? {
        trace.usage?.cachedTokens ?? trace.serverTimings?.cachedTokens
    }

    public mutating func add(_ trace: RequestTrace) {
        guard let cached = Self.cachedTokens(of: trace), let prompt = trace.inputTokens else { return }
        requests += 1
        promptTokens += prompt
        cachedTokens += min(cached, prompt)
    }

    /// Above this share, a workload that shares no prefix by design was served from a warm cache.
    public static let warningShare = 0.01

    /// The warning for a run whose workload shares no prefix by design (see
    /// `WorkloadSpec.sharesPrefixes(requests:)`) yet saw more than 1% of its prompt tokens cached.
    public func warning(sharesByDesign: Bool) -> String? {
        guard !sharesByDesign, share > Self.warningShare else { return nil }
        return String(
            format: "%.1f%% of the prompt tokens (%d of %d) were served from the server's prefix cache, though no "
                + "two requests of this workload share a prefix by design: an earlier run or another client warmed "
                + "it, and the TTFTs are faster than a cold server's. Set workload.cache_bust: per_run to measure "
                + "without it", share * 100, cachedTokens, promptTokens)
    }
}

extension WorkloadSpec {
    /// Whether requests of this workload share prompt prefixes by design, so a prefix cache is
    /// meant to hit: sessions (each turn carries the last), a system message common to two
    /// prompts, or a prompt sent twice (a list shorter than the `requests` sent, or a repeated
    /// one). With `cache_bust: per_request` nothing is shared.
    public func sharesPrefixes(requests: Int) -> Bool {
        if cacheBust == .perRequest { return false }
        if sessions != nil { return true }
        if requests > prompts.count { return true }
        var systems = Set<String>()
        var texts = Set<String>()
        for prompt in prompts {
            if let system = prompt.system, !systems.insert(system).inserted { return true }
            if !texts.insert(prompt.completionText).inserted { return true }
        }
        return false
    }
}
