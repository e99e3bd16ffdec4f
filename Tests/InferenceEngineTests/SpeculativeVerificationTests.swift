import Foundation
import InferenceTestSupport
import Testing

@testable import InferenceEngine

/// Speculative decoding: the sampler's distributions, greedy and rejection-sampling verification, and end-to-end
/// speculative greedy decoding against plain greedy decoding.
@Suite struct SpeculativeVerificationTests {
    // MARK: Sampler distributions

    static let logits: [Float] = [0.5, 2.0, -1.0, 1.5, 0.0, 1.9, -0.5, 1.0]
    static let samplingConfigurations: [SamplingParameters] = [
        SamplingParameters(temperature: 1, topK: 0, topP: 1, seed: 42),
        SamplingParameters(temperature: 0.7, topK: 4, topP: 1, seed: 7),
        SamplingParameters(temperature: 1.3, topK: 0, topP: 0.8, seed: 123),
        SamplingParameters(temperature: 0.9, topK: 5, topP: 0.9, seed: 2024),
    ]

    /// The distribution of temperature / top-k / top-p sampling, written out independently of `Sampler`.
    static func expectedDistribution(_ logits: [Float], _ p: SamplingParameters) -> [Double] {
        var order = Array(logits.indices)
        order.sort { logits[$0] > logits[$1] }
        if p.topK > 0 { order = Array(order.prefix(p.topK)) }
        let top = Double(logits[order[0]])
        var weights = order.map { exp((Double(logits[$0]) - top) / Double(p.temperature)) }
        if p.topP < 1 {
            let total = weights.reduce(0, +)
            var cumulative = 0.0
            var keep = weights.count
            for (i, w) in weights.enumerated() {
                cumulative += w / total
                if cumulative >= Double(p.topP) {
                    keep = i + 1
                    break
                }
            }
            weights = Array(weights.prefix(keep))
        }
        let total = weights.reduce(0, +)
        var out = [Double](repeating: 0, count: logits.count)
        for (i, w) in weights.enumerated() { out[order[i]] = w / total }
        return out
    }

    @Test func sampleKeepsItsTokensForExistingSeeds() {
        // Produced by `sample` before `distribution` was split out of it.
        let expected: [[Int32]] = [
            [1, 1, 5, 1, 0, 1, 7, 5, 3, 1, 5, 5, 5, 3, 1, 1, 5, 1, 3, 4, 1, 3, 3, 1],
            [1, 3, 5, 5, 1, 5, 1, 1, 5, 1, 7, 7, 3, 3, 5, 3, 1, 5, 3, 5, 1, 1, 5, 3],
            [0, 7, 3, 3, 3, 0, 5, 3, 1, 3, 7, 1, 1, 0, 5, 5, 1, 1, 3, 0, 7, 1, 5, 1],
            [1, 1, 1, 3, 5, 1, 5, 1, 5, 5, 3, 3, 5, 1, 3, 7, 1, 3, 5, 5, 5, 1, 5, 3],
        ]
        for (configuration, tokens) in zip(Self.samplingConfigurations, expected) {
            var sampler = Sampler(parameters: configuration)
            let drawn = (0..<tokens.count).map { _ in
                Self.logits.withUnsafeBufferPointer { sampler.sample($0.baseAddress!, count: 8) }
            }
            #expect(drawn == tokens, "\(configuration)")
        }
    }

    @Test func topKKeepsTheOrderOfAStableSortWithTies() {
        // Produced by `sample` when it sorted the whole vocabulary; ties keep the lowest ids.
        let tied: [Float] = [1, 2, 2, 0, 2, 1, 2, 0, 2, -1, 1, 2]
        let expected: [(SamplingParameters, [Int32])] = [
            (
                SamplingParameters(temperature: 1, topK: 3, topP: 1, seed: 5),
                [4, 1, 1, 1, 2, 4, 2, 2, 2, 2, 1, 4, 2, 4, 4, 4, 2, 1, 2, 1, 4, 1, 4, 1]
            ),
            (
                SamplingParameters(temperature: 0.5, topK: 7, topP: 1, seed: 6),
                [4, 1, 1, 6, 11, 2, 2, 1, 11, 1, 6, 2, 11, 4, 1, 6, 6, 11, 2, 0, 8, 8, 1, 2]
            ),
            (SamplingParameters(temperature: 1, topK: 2, topP: 0.5, seed: 8), Array(repeating: 1, count: 24)),
        ]
        for (parameters, tokens) in expected {
            var sampler = Sampler(parameters: parameters)
            let drawn = (0..<tokens.count).map { _ in
                tied.withUnsafeBufferPointer { sampler.sample($0.baseAddress!, count: tied.count) }
            }
            #expect(drawn == tokens, "\(parameters)")
        }
        // A larger vocabulary with many ties.
        var state: UInt64 = 1
        let big: [Float] = (0..<1000).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 58)) / 8
        }
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0.7, topK: 40, topP: 0.9, seed: 77))
        let drawn = (0..<24).map { _ in big.withUnsafeBufferPointer { sampler.sample($0.baseAddress!, count: 1000) } }
        #expect(
            drawn == [
                909, 55, 468, 934, 781, 243, 781, 751, 221, 781, 751, 984, 221, 751, 379, 751, 468, 55, 231, 420, 73,
                42, 781, 741,
            ])
        for k in [1, 2, 40, 999] {
            let reference = big.indices.sorted { big[$0] > big[$1] || (big[$0] == big[$1] && $0 < $1) }.prefix(k)
            let top = big.withUnsafeBufferPointer { Sampler.top(k, of: $0.baseAddress!, count: 1000) }
            #expect(top.map(\.id) == reference.map { Int32($0) }, "k \(k)")
        }
    }

    @Test func probabilitiesAreWhatSampleDrawsFrom() {
        Self.logits.withUnsafeBufferPointer { buffer in
            let logits = buffer.baseAddress!
            for configuration in Self.samplingConfigurations {
                let expected = Self.expectedDistribution(Self.logits, configuration)
                var sampler = Sampler(parameters: configuration)
                let dense = sampler.distribution(logits, count: 8).dense(count: 8)
                let distribution = sampler.distribution(logits, count: 8)
                for id in 0..<8 {
                    #expect(abs(Double(dense[id]) - expected[id]) < 1e-6, "\(configuration) token \(id)")
                    #expect(abs(distribution.probability(of: Int32(id)) - expected[id]) < 1e-6)
                }
                #expect(Set(distribution.tokens) == Set((0..<8).filter { expected[$0] > 0 }.map { Int32($0) }))
                // Drawing from the distribution is drawing from the logits, token for token.
                var twin = sampler
                for _ in 0..<200 {
                    #expect(sampler.sample(from: distribution) == twin.sample(logits, count: 8))
                }
            }
            // Greedy (temperature 0, or top-k 1): one-hot on the first maximum.
            let tied: [Float] = [0.1, 3, -2, 3, 1]
            tied.withUnsafeBufferPointer { t in
                for parameters in [SamplingParameters.greedy, SamplingParameters(temperature: 1, topK: 1)] {
                    let sampler = Sampler(parameters: parameters)
                    #expect(parameters.isGreedy)
                    #expect(sampler.distribution(t.baseAddress!, count: 5).dense(count: 5) == [0, 1, 0, 0, 0])
                    #expect(sampler.distribution(t.baseAddress!, count: 5) == .oneHot(1))
                }
            }
        }
    }

    // MARK: Greedy verification

    /// Rows of a 5-token vocabulary whose argmaxes are 3, 1, 4, 0; row 4 ties tokens 1 and 2 (argmax 1).
    static let greedyRows: [Float] = [
        0.1, 0.2, 0.3, 0.9, 0.0,
        -1, 2, 1, 0, 1.5,
        0, 0, 0, 0, 7,
        5, 4, 3, 2, 1,
        1, 5, 5, 0, 2,
    ]

    func greedy(_ drafts: [Int32], rows: [Float] = Self.greedyRows) -> SpeculativeOutcome {
        var sampler = Sampler(parameters: .greedy)
        return rows.withUnsafeBufferPointer {
            SpeculativeVerifier.verify(
                drafts: drafts, targetLogits: $0.baseAddress!, vocabularySize: 5, sampler: &sampler)
        }
    }

    @Test func greedyVerificationAcceptsTheMatchingPrefix() {
        // All accepted: the bonus token is the argmax of the row after the last draft.
        #expect(greedy([3, 1, 4]) == SpeculativeOutcome(drafted: 3, accepted: 3, tokens: [3, 1, 4, 0]))
        #expect(greedy([3, 1, 4, 0]) == SpeculativeOutcome(drafted: 4, accepted: 4, tokens: [3, 1, 4, 0, 1]))
        // A mismatch at position i: i drafts kept, then the target's token in place of the mismatching one.
        #expect(greedy([0, 1, 4]) == SpeculativeOutcome(drafted: 3, accepted: 0, tokens: [3]))
        #expect(greedy([3, 2, 4]) == SpeculativeOutcome(drafted: 3, accepted: 1, tokens: [3, 1]))
        #expect(greedy([3, 1, 2]) == SpeculativeOutcome(drafted: 3, accepted: 2, tokens: [3, 1, 4]))
        // Tokens after a mismatch are not looked at even when they would match their rows.
        #expect(greedy([3, 0, 4, 0]) == SpeculativeOutcome(drafted: 4, accepted: 1, tokens: [3, 1]))
        // No draft: the target's own next token.
        #expect(greedy([]) == SpeculativeOutcome(drafted: 0, accepted: 0, tokens: [3]))
        // Ties break to the lowest id, as `Sampler.argmax` does.
        let tie = Array(Self.greedyRows[20...])
        #expect(greedy([2], rows: tie + tie) == SpeculativeOutcome(drafted: 1, accepted: 0, tokens: [1]))
        #expect(greedy([1], rows: tie + tie) == SpeculativeOutcome(drafted: 1, accepted: 1, tokens: [1, 1]))
        // top-k 1 is greedy too.
        var topOne = Sampler(parameters: SamplingParameters(temperature: 1, topK: 1, seed: 3))
        let outcome = Self.greedyRows.withUnsafeBufferPointer {
            SpeculativeVerifier.verify(
                drafts: [3, 2], targetLogits: $0.baseAddress!, vocabularySize: 5, sampler: &topOne)
        }
        #expect(outcome == SpeculativeOutcome(drafted: 2, accepted: 1, tokens: [3, 1]))
        #expect(outcome.keptPositions == 2 && outcome.next == 1)
    }

    @Test func statisticsAddUp() {
        var statistics = SpeculationStatistics()
        #expect(statistics.acceptanceRate == nil)
        statistics.record(SpeculativeOutcome(drafted: 4, accepted: 1, tokens: [3, 1]))
        statistics.record(SpeculativeOutcome(drafted: 4, accepted: 4, tokens: [1, 2, 3, 4, 5]))
        #expect(statistics == SpeculationStatistics(drafted: 8, accepted: 5))
        #expect(
            statistics + SpeculationStatistics(drafted: 2, accepted: 1)
                == SpeculationStatistics(drafted: 10, accepted: 6))
        #expect(statistics.acceptanceRate == 5.0 / 8.0)
    }

    // MARK: Rejection sampling

    /// Target rows (row i is row 0 rotated by i) and a draft distribution that differs from them.
    static let targetRow: [Float] = [1.2, 0.4, -0.3, 0.9, -1.0, 0.1]
    static let draftRow: [Float] = [-0.5, 1.1, 0.6, -0.2, 0.3, 1.4]
    static let vocabulary = 6
    static let draftLength = 3
    static let trials = 40_000

    static var targetRows: [Float] {
        (0...draftLength).flatMap { i in (0..<vocabulary).map { targetRow[($0 + i) % vocabulary] } }
    }

    /// Pearson's chi-square statistic of `counts` against `expected` probabilities; a count where the probability is
    /// 0 makes it infinite.
    static func chiSquare(_ counts: [Int], _ expected: [Double]) -> (statistic: Double, degreesOfFreedom: Int) {
        let n = Double(counts.reduce(0, +))
        var statistic = 0.0
        var categories = 0
        for (count, p) in zip(counts, expected) {
            if p == 0 {
                if count > 0 { return (.infinity, 0) }
                continue
            }
            categories += 1
            let e = n * p
            statistic += (Double(count) - e) * (Double(count) - e) / e
        }
        return (statistic, categories - 1)
    }

    /// Upper 0.1% points of the chi-square distribution, by degrees of freedom.
    static let critical: [Int: Double] = [1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467, 5: 20.515, 6: 22.458]

    enum DraftKind { case sampledSparse, sampledDense, deterministic }

    /// Counts of the first emitted token over many verifications: by `SpeculativeVerifier`, by the naive rule that
    /// accepts every draft, and by the wrong rule that resamples rejections from p instead of max(0, p − q).
    func firstTokenCounts(_ parameters: SamplingParameters, _ kind: DraftKind) -> (
        verified: [Int], acceptAll: [Int], resampleFromTarget: [Int], accepted: Int
    ) {
        let v = Self.vocabulary
        var verified = [Int](repeating: 0, count: v)
        var acceptAll = [Int](repeating: 0, count: v)
        var resampleFromTarget = [Int](repeating: 0, count: v)
        var accepted = 0
        var sampler = Sampler(parameters: parameters)
        var wrongSampler = Sampler(parameters: parameters)
        var draftParameters = parameters
        draftParameters.seed = parameters.seed &+ 1000
        var draftSampler = Sampler(parameters: draftParameters)
        let rows = Self.targetRows
        rows.withUnsafeBufferPointer { target in
            Self.draftRow.withUnsafeBufferPointer { draftLogits in
                let q = draftSampler.distribution(draftLogits.baseAddress!, count: v)
                let dense = q.dense(count: v).map { Float($0) }
                for _ in 0..<Self.trials {
                    let drafts: [Int32]
                    var outcome: SpeculativeOutcome
                    switch kind {
                    case .sampledSparse:
                        drafts = (0..<Self.draftLength).map { _ in draftSampler.sample(from: q) }
                        outcome = SpeculativeVerifier.verify(
                            drafts: drafts, draftDistributions: Array(repeating: q, count: drafts.count),
                            targetLogits: target.baseAddress!, vocabularySize: v, sampler: &sampler)
                    case .sampledDense:
                        drafts = (0..<Self.draftLength).map { _ in draftSampler.sample(from: q) }
                        outcome = SpeculativeVerifier.verify(
                            drafts: drafts,
                            draftDistributions: Array(
                                repeating: TokenDistribution(dense: dense), count: drafts.count),
                            targetLogits: target.baseAddress!, vocabularySize: v, sampler: &sampler)
                    case .deterministic:
                        // Always proposes 3 (the target's second choice), then 0.
                        drafts = [3, 0, 0]
                        outcome = SpeculativeVerifier.verify(
                            drafts: drafts, targetLogits: target.baseAddress!, vocabularySize: v, sampler: &sampler)
                    }
                    #expect(outcome.tokens.count == outcome.accepted + 1)
                    #expect(Array(outcome.tokens.prefix(outcome.accepted)) == Array(drafts.prefix(outcome.accepted)))
                    verified[Int(outcome.tokens[0])] += 1
                    acceptAll[Int(drafts[0])] += 1
                    accepted += outcome.accepted
                    // The wrong rule, for the first token.
                    let p = wrongSampler.distribution(target.baseAddress!, count: v)
                    let qFirst = kind == .deterministic ? 1 : q.probability(of: drafts[0])
                    let first =
                        wrongSampler.nextUnit() * qFirst < p.probability(of: drafts[0])
                        ? drafts[0] : wrongSampler.sample(from: p)
                    resampleFromTarget[Int(first)] += 1
                }
            }
        }
        return (verified, acceptAll, resampleFromTarget, accepted)
    }

    @Test(arguments: [
        (SamplingParameters(temperature: 1, topK: 0, topP: 1, seed: 11), DraftKind.sampledSparse),
        (SamplingParameters(temperature: 1, topK: 0, topP: 1, seed: 12), DraftKind.sampledDense),
        (SamplingParameters(temperature: 1, topK: 0, topP: 1, seed: 13), DraftKind.deterministic),
        (SamplingParameters(temperature: 0.8, topK: 4, topP: 0.9, seed: 14), DraftKind.sampledSparse),
    ])
    func rejectionSamplingPreservesTheTargetDistribution(parameters: SamplingParameters, kind: DraftKind) {
        let expected = Self.expectedDistribution(Self.targetRow, parameters)
        let counts = firstTokenCounts(parameters, kind)
        let (statistic, df) = Self.chiSquare(counts.verified, expected)
        let threshold = Self.critical[df]!
        #expect(
            statistic < threshold, "chi-square \(statistic) with \(df) degrees of freedom; counts \(counts.verified)")
        // Drafts were accepted some of the time (the test exercises acceptance and rejection).
        #expect(counts.accepted > Self.trials / 10 && counts.accepted < Self.trials * Self.draftLength * 9 / 10)
        // The same test rejects wrong rules by a wide margin.
        let acceptAll = Self.chiSquare(counts.acceptAll, expected).statistic
        let resampleFromTarget = Self.chiSquare(counts.resampleFromTarget, expected).statistic
        #expect(acceptAll > 10 * threshold, "accept-all chi-square \(acceptAll)")
        #expect(resampleFromTarget > 5 * threshold, "resample-from-p chi-square \(resampleFromTarget)")
    }

    @Test func samplingVerificationIsReproducibleAndTakesTheBonusFromTheLastRow() {
        // Drafts that the target always accepts (q = p): every pass keeps them all and draws a bonus token from
        // the last row, whose only possible token (top-k 1 is greedy, so use a peaked row) is known.
        let parameters = SamplingParameters(temperature: 1, topK: 0, topP: 1, seed: 5)
        var rows = [Float](repeating: -50, count: 3 * 6)
        rows[0 * 6 + 2] = 10  // row 0: token 2
        rows[1 * 6 + 5] = 10  // row 1: token 5
        rows[2 * 6 + 1] = 10  // row 2 (bonus): token 1
        let run = { () -> [SpeculativeOutcome] in
            var sampler = Sampler(parameters: parameters)
            return rows.withUnsafeBufferPointer { r in
                (0..<50).map { _ in
                    SpeculativeVerifier.verify(
                        drafts: [2, 5], targetLogits: r.baseAddress!, vocabularySize: 6, sampler: &sampler)
                }
            }
        }
        let outcomes = run()
        #expect(outcomes.allSatisfy { $0 == SpeculativeOutcome(drafted: 2, accepted: 2, tokens: [2, 5, 1]) })
        // A draft with no target mass is always rejected and replaced by the target's choice.
        var sampler = Sampler(parameters: parameters)
        let rejected = rows.withUnsafeBufferPointer {
            SpeculativeVerifier.verify(
                drafts: [3, 5], targetLogits: $0.baseAddress!, vocabularySize: 6, sampler: &sampler)
        }
        #expect(rejected == SpeculativeOutcome(drafted: 2, accepted: 0, tokens: [2]))
        // Same seed, same draws.
        var a = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 1, seed: 9))
        var b = a
        Self.targetRows.withUnsafeBufferPointer { target in
            for _ in 0..<100 {
                let x = SpeculativeVerifier.verify(
                    drafts: [1, 2, 3], targetLogits: target.baseAddress!, vocabularySize: 6, sampler: &a)
                let y = SpeculativeVerifier.verify(
                    drafts: [1, 2, 3], targetLogits: target.baseAddress!, vocabularySize: 6, sampler: &b)
                #expect(x == y)
            }
        }
    }

    // MARK: End to end on a tiny model

    static let prompt: [Int32] = [5, 40, 100, 7, 200, 33, 260]
    static let maxTokens = 30

    /// Tiny random models and prompts whose greedy continuations change token several times (they mostly repeat).
    struct Case: Sendable, CustomTestStringConvertible {
        var type: GGMLType
        var seed: UInt64
        var prompt: [Int32]
        var testDescription: String { "\(type.name) seed \(seed) prompt of \(prompt.count)" }
    }

    static let cases = [
        Case(type: .q8_0, seed: 11, prompt: prompt),
        Case(type: .q4_1, seed: 99, prompt: prompt),
        Case(type: .q4_1, seed: 11, prompt: [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100]),
    ]

    func tinyModel(
        _ type: GGMLType = .q8_0, seed: UInt64 = 7, strategy: MatrixKernels.Strategy = .scalar,
        weights: WeightFormat = .native, path: String? = nil
    ) throws -> (TransformerModel, String) {
        let path = try path ?? TinyModelFactory.writer(type: type, seed: seed).write(name: "speculative-\(seed)")
        let model = try TransformerModel(
            file: GGUFFile(path: path), threads: 2, contextLength: 64, backend: nil, packWeights: strategy == .simd,
            weights: weights)
        (model.backend as! CPUBackend).strategy = strategy
        return (model, path)
    }

    func plainGreedy(_ model: TransformerModel, prompt: [Int32]) throws -> [Int32] {
        try ForwardHarness.greedy(model, prompt: prompt, maxTokens: Self.maxTokens)
    }

    /// Greedy decoding of `prompt` by drafting up to `k` tokens per step and verifying them in one target pass.
    func speculativeGreedy(
        _ model: TransformerModel, prompt: [Int32], k: Int, statistics: inout SpeculationStatistics,
        draft: ([Int32], Int) -> [Int32]
    ) throws -> [Int32] {
        let generator = ForwardHarness(model: model)
        var sampler = Sampler(parameters: .greedy)
        try generator.prefill(prompt)
        var output: [Int32] = []
        var pending = generator.sample(&sampler)
        let eos = model.eosTokenIDs
        while !eos.contains(pending) {
            output.append(pending)
            if output.count == Self.maxTokens || generator.remainingCapacity == 0 { break }
            let room = min(k, generator.remainingCapacity - 1, Self.maxTokens - output.count)
            let drafts = room > 0 ? draft(prompt + output, room) : []
            #expect(drafts.count <= room)
            let before = generator.cache.count
            let logits = try generator.logitsForAll([pending] + drafts)
            let outcome = SpeculativeVerifier.verify(
                drafts: drafts, targetLogits: logits, vocabularySize: model.vocabularySize, sampler: &sampler)
            statistics.record(outcome)
            generator.truncate(to: before + outcome.keptPositions)
            for token in outcome.tokens.dropLast() {
                if eos.contains(token) { return output }
                output.append(token)
                if output.count == Self.maxTokens { return output }
            }
            pending = outcome.next
        }
        return output
    }

    @Test(arguments: cases, [MatrixKernels.Strategy.scalar, .simd])
    func ngramSpeculationGivesPlainGreedyTokens(case c: Case, strategy: MatrixKernels.Strategy) throws {
        let (model, _) = try tinyModel(c.type, seed: c.seed, strategy: strategy)
        let expected = try plainGreedy(model, prompt: c.prompt)
        #expect(expected.count == Self.maxTokens)
        var total = SpeculationStatistics()
        for (drafter, k) in [
            (NGramDrafter(), 1), (NGramDrafter(), 3), (NGramDrafter(), 6), (NGramDrafter(minN: 2, maxN: 4), 4),
        ] {
            var statistics = SpeculationStatistics()
            let tokens = try speculativeGreedy(model, prompt: c.prompt, k: k, statistics: &statistics) {
                drafter.draft(context: $0, k: $1)
            }
            #expect(tokens == expected, "k \(k) n \(drafter.minN)…\(drafter.maxN)")
            total += statistics
        }
        // The random model repeats itself, so prompt lookup drafts, and some drafts are accepted, some not.
        #expect(total.accepted > 0 && total.accepted < total.drafted, "\(total)")
    }

    @Test(arguments: cases)
    func modelDraftingGivesPlainGreedyTokens(case c: Case) throws {
        let (target, path) = try tinyModel(c.type, seed: c.seed)
        let expected = try plainGreedy(target, prompt: c.prompt)
        let (other, _) = try tinyModel(c.type, seed: c.seed + 1)
        let (selfQuantized, _) = try tinyModel(weights: .q4_0, path: path)
        let drafts: [(name: String, model: TransformerModel)] = [
            ("same model", target), ("other seed", other), ("self q4_0", selfQuantized),
        ]
        for (name, draftModel) in drafts {
            try ModelDrafter.checkCompatible(target: target, draft: draftModel)
            var total = SpeculationStatistics()
            for k in [1, 3, 5] {
                let drafter = ModelDrafter(model: draftModel)
                var sampler = Sampler(parameters: .greedy)
                var statistics = SpeculationStatistics()
                var calls = 0
                let tokens = try speculativeGreedy(target, prompt: c.prompt, k: k, statistics: &statistics) {
                    context, count in
                    let draft = drafter.draft(context: context, k: count, sampler: &sampler)
                    calls += 1
                    #expect(draft.distributions == nil)
                    #expect(draft.tokens.count == count)
                    // The drafter's cache holds the context and all drafts but the last.
                    #expect(drafter.cachedTokens == context + draft.tokens.dropLast())
                    return draft.tokens
                }
                #expect(tokens == expected, "\(name) k \(k)")
                total += statistics
                if name == "same model" {
                    // Its own drafts are its own greedy tokens: all accepted, k + 1 tokens per pass.
                    #expect(statistics.accepted == statistics.drafted, "\(name) k \(k): \(statistics)")
                    #expect(calls == (Self.maxTokens - 1 + k) / (k + 1), "\(name) k \(k)")
                }
            }
            #expect(total.drafted > 0, "\(name)")
            if name == "other seed" { #expect(total.accepted < total.drafted, "\(name): \(total)") }
        }
    }

    @Test func modelDrafterReusesItsCacheAndSamplesWithDistributions() throws {
        let (model, _) = try tinyModel()
        let drafter = ModelDrafter(model: model)
        var greedy = Sampler(parameters: .greedy)
        let first = drafter.draft(context: Self.prompt, k: 4, sampler: &greedy)
        #expect(drafter.cachedTokens == Self.prompt + first.tokens.prefix(3))
        // The target accepted two drafts and chose another token: the next call drops the rest and continues.
        let context = Self.prompt + first.tokens.prefix(2) + [17]
        let second = drafter.draft(context: context, k: 3, sampler: &greedy)
        #expect(drafter.cachedTokens == context + second.tokens.prefix(2))
        let fresh = ModelDrafter(model: model)
        #expect(fresh.draft(context: context, k: 3, sampler: &greedy) == second)
        // Room: drafts shrink to what the cache can hold (the last draft token is never run).
        let small = ModelDrafter(model: model, capacity: Self.prompt.count + 2)
        #expect(small.draft(context: Self.prompt, k: 8, sampler: &greedy).tokens.count == 3)
        #expect(small.draft(context: Self.prompt + [1, 2, 3], k: 8, sampler: &greedy) == .empty)

        // Sampling: each draft comes with the distribution it was drawn from.
        let parameters = SamplingParameters(temperature: 0.9, topK: 20, topP: 0.95, seed: 77)
        var sampler = Sampler(parameters: parameters)
        let sampled = drafter.draft(context: Self.prompt, k: 4, sampler: &sampler)
        #expect(sampled.tokens.count == 4)
        let distributions = try #require(sampled.distributions)
        #expect(distributions.count == 4)
        for (token, q) in zip(sampled.tokens, distributions) {
            #expect(q.probability(of: token) > 0)
            #expect(q.tokens.count <= 20)
        }
        // The first distribution is the draft model's after the prompt, as the sampler computes it.
        let generator = ForwardHarness(model: model)
        try generator.prefill(Self.prompt)
        let expected = Sampler(parameters: parameters).distribution(
            generator.currentLogits!.baseAddress!, count: model.vocabularySize)
        #expect(distributions[0] == expected)

        // `SpeculativeDrafter`: the same drafts; their distributions when sampled.
        let proposer = ModelDrafter(model: model)
        let greedyProposal = proposer.propose(context: Self.prompt, count: 4, sampling: .greedy)
        #expect(greedyProposal.tokens == first.tokens && greedyProposal.distributions == nil)
        let proposal = proposer.propose(context: Self.prompt, count: 4, sampling: parameters)
        let proposed = try #require(proposal.distributions)
        #expect(proposed.count == proposal.tokens.count && proposal.tokens.count == 4)
        for (token, q) in zip(proposal.tokens, proposed) {
            #expect(q.probability(of: token) > 0)
            #expect(abs(q.dense(count: model.vocabularySize).reduce(0, +) - 1) < 1e-9)
        }
        // Reproducible: a new drafter with the same seed proposes the same tokens.
        #expect(ModelDrafter(model: model).propose(context: Self.prompt, count: 4, sampling: parameters) == proposal)
    }

    @Test func incompatibleDraftModelsAreRefused() throws {
        let (target, _) = try tinyModel()
        let sentencePiece = try TransformerModel(
            file: GGUFFile(path: TinyModelFactory.path(type: .q8_0, tokenizer: .sentencePiece)), contextLength: 64)
        #expect(throws: SpeculativeDraftError.vocabularySizeMismatch(target: 274, draft: 283)) {
            try ModelDrafter.checkCompatible(target: target, draft: sentencePiece)
        }
        // Same size, one token spelled differently.
        var writer = TinyModelFactory.writer(type: .q8_0)
        var tokens = TinyModelFactory.bpeTokens
        tokens[1] = "<|start|>"
        writer.metadata = writer.metadata.map {
            $0.0 == "tokenizer.ggml.tokens" ? ($0.0, .array(8, tokens.map { .string($0) })) : $0
        }
        let renamed = try TransformerModel(file: GGUFFile(path: writer.write(name: "renamed-token")), contextLength: 64)
        let error = SpeculativeDraftError.tokenMismatch(id: 1, target: "<|im_start|>", draft: "<|start|>")
        #expect(throws: error) { try ModelDrafter.checkCompatible(target: target, draft: renamed) }
        #expect(error.description.contains("token 1") && error.description.contains("same tokenizer"))
    }
}

extension SpeculativeOutcome: CustomTestStringConvertible {
    public var testDescription: String { "accepted \(accepted)/\(drafted) → \(tokens)" }
}
