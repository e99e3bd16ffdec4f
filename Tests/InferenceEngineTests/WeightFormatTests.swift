import InferenceTestSupport
import Testing

@testable import InferenceEngine

/// `--weights`: converting matrices at load time.
@Suite struct WeightFormatTests {
    static let prompt: [Int32] = [5, 40, 100, 7, 200, 33, 260, 12]

    /// A `rows` x `columns` matrix of `type` holding `values` encoded, in storage of its own.
    func matrix(_ values: [Float], rows: Int, columns: Int, type: GGMLType) -> WeightMatrix {
        let bytes = QuantizedBlocks.encode(values, as: type)
        let storage = WeightStorage(byteCount: bytes.count)
        storage.bytes.copyMemory(from: bytes, byteCount: bytes.count)
        return WeightMatrix(
            name: "m", type: type, rows: rows, columns: columns, data: UnsafeRawPointer(storage.bytes),
            owner: storage)
    }

    func bytes(of m: WeightMatrix) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: m.data, count: m.rows * m.rowBytes))
    }

    /// Values with the edge cases of the encoders: an all-zero block, a constant block, a block whose largest
    /// magnitude is negative, exact halves of the quantization steps, values beyond the f16 range, subnormals.
    func testValues(rows: Int, columns: Int) -> [Float] {
        var random = TestRandom(state: 21)
        var values = random.values(rows * columns, scale: 2)
        for j in 0..<32 {
            values[j] = 0
            values[32 + j] = 0.75
            values[64 + j] = Float(j) / 2 - 8  // -8 ... 7.5: largest magnitude negative, many exact halves
            values[96 + j] = j % 2 == 0 ? 60_000 : -1e-7
            values[128 + j] = Float(sign: .plus, exponent: -20, significand: 1) * Float(j)
        }
        return values
    }

    @Test func convertedBytesEqualTheReferenceEncoder() {
        let rows = 19
        let columns = 96
        let values = testValues(rows: rows, columns: columns)
        let pool = ThreadPool(threads: 3)
        for source in GGMLType.allCases {
            let m = matrix(values, rows: rows, columns: columns, type: source)
            let decoded = QuantizedBlocks.decode(source, from: m.data, count: rows * columns)
            for target in GGMLType.allCases where target != source {
                let expected = QuantizedBlocks.encode(decoded, as: target)
                for p in [nil, pool] {
                    let c = m.converted(to: target, pool: p)
                    #expect(c.type == target && c.rows == rows && c.columns == columns)
                    #expect(c.rowBytes == target.byteCount(elements: columns))
                    #expect(bytes(of: c) == expected, "\(source.name) → \(target.name), pool \(p != nil)")
                    let sharesOwner = c.owner === m.owner
                    #expect(!sharesOwner)
                }
            }
            // To its own type: the same matrix, not a copy.
            let same = m.converted(to: source, pool: pool)
            let sameOwner = same.owner === m.owner
            #expect(same.data == m.data && sameOwner)
        }
    }

    @Test func encodeIntoMemoryMatchesEncode() {
        let values = testValues(rows: 4, columns: 64)
        for type in GGMLType.allCases {
            let expected = QuantizedBlocks.encode(values, as: type)
            var out = [UInt8](repeating: 0xAA, count: expected.count + 1)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBytes {
                    QuantizedBlocks.encode(v.baseAddress!, count: values.count, as: type, into: $0.baseAddress!)
                }
            }
            #expect(Array(out.prefix(expected.count)) == expected, "\(type.name)")
            #expect(out.last == 0xAA, "\(type.name) wrote past its bytes")
        }
    }

    @Test func formatArguments() {
        #expect(WeightFormat(argument: "native") == .native)
        #expect(WeightFormat(argument: "Q8_0") == .q8_0)
        #expect(WeightFormat(argument: "q4-0") == .q4_0)
        #expect(WeightFormat(argument: "F16") == .f16)
        #expect(WeightFormat(argument: "q4_1") == nil)
        #expect(WeightFormat(argument: "") == nil)
        #expect(WeightFormat.argumentList == "native|f32|f16|q8_0|q4_0")
        #expect(WeightFormat.allCases.map(\.type) == [nil, .f32, .f16, .q8_0, .q4_0])
        #expect(WeightFormat.q8_0.description == "q8_0")
    }

    func load(
        _ path: String, _ weights: WeightFormat, strategy: MatrixKernels.Strategy
    ) throws -> TransformerModel {
        let model = try TransformerModel(
            file: GGUFFile(path: path), threads: 2, contextLength: 32, backend: nil, packWeights: strategy == .simd,
            weights: weights)
        (model.backend as! CPUBackend).strategy = strategy
        return model
    }

    /// Every position's logits of `prompt`, then six greedy tokens.
    func run(_ model: TransformerModel) throws -> (logits: [Float], tokens: [Int32]) {
        let generator = ForwardHarness(model: model)
        let all = try generator.logitsForAll(Self.prompt)
        let logits = Array(UnsafeBufferPointer(start: all, count: Self.prompt.count * model.vocabularySize))
        var sampler = Sampler(parameters: .greedy)
        let tokens = try (0..<6).map { _ in try generator.step(&sampler) }
        return (logits, tokens)
    }

    /// An F32 model converted to a format is the model whose file was written in that format from the same values:
    /// same logits bit for bit, same tokens, with either kernel family, and only one copy of its weights kept.
    @Test(arguments: [WeightFormat.f32, .f16, .q8_0, .q4_0], [MatrixKernels.Strategy.scalar, .simd])
    func convertedModelEqualsTheModelStoredInThatFormat(format: WeightFormat, strategy: MatrixKernels.Strategy)
        throws
    {
        for tied in [true, false] {
            let source = try TinyModelFactory.path(type: .f32, tiedOutput: tied)
            let stored = try TinyModelFactory.path(type: format.type!, tiedOutput: tied)
            let converted = try load(source, format, strategy: strategy)
            let native = try load(stored, .native, strategy: strategy)
            #expect(converted.weightFormat == format && native.weightFormat == .native)
            #expect(converted.matrixTypes == [format.type!])
            #expect(converted.weightsDescription == "\(format.rawValue) (\(format.type!.name))")
            if strategy == .simd {
                #expect((converted.layers[0].query.packed != nil) == (format != .f32))
                #expect((converted.output.packed != nil) == (format != .f32))
                // One copy of the weights: a converted matrix's own bytes are given back once it is packed, and
                // its rows (the tied embedding's lookups) decode from the packed copy, as the logits below check.
                let kept = converted.layers.flatMap(\.matrices) + [converted.output]
                #expect(kept.allSatisfy { $0.bytesDiscarded == (format != .f32) }, "\(format)")
                #expect(converted.tokenEmbedding.bytesDiscarded == (tied && format != .f32))
            }
            let a = try run(converted)
            let b = try run(native)
            #expect(a.logits == b.logits, "\(format) tied \(tied) \(strategy)")
            #expect(a.tokens == b.tokens, "\(format) tied \(tied) \(strategy)")
        }
    }

    /// Converting the usual Q4_1 model: to F32 the values are exact, so the scalar kernels give the very same
    /// logits; to the other formats the logits stay close, within a bound that grows as bits are dropped.
    @Test(arguments: [MatrixKernels.Strategy.scalar, .simd])
    func convertedQ4_1ModelStaysCloseToNative(strategy: MatrixKernels.Strategy) throws {
        let path = try TinyModelFactory.path(type: .q4_1, tiedOutput: false)
        let native = try load(path, .native, strategy: strategy)
        #expect(native.matrixTypes == [.q4_1])
        #expect(native.weightsDescription == "native (Q4_1)")
        let reference = try run(native)
        let scale = reference.logits.map { abs($0) }.max()!
        // The largest difference relative to the largest logit, and the L2 norm of the differences relative to the
        // logits' (measured: f16 0.07 %, q8_0 1.9 %, q4_0 23.6 %; requantizing Q4_1 values to 4 bits with no offset
        // is coarse), each bound 1.5-2.5 times the measurement: a wrong scale or offset in a conversion is far beyond.
        let tolerance: [WeightFormat: Float] = [.native: 0, .f32: 1e-5, .f16: 2e-3, .q8_0: 0.08, .q4_0: 0.45]
        let relativeL2Bound: [WeightFormat: Double] = [.native: 0, .f32: 1e-5, .f16: 1.5e-3, .q8_0: 0.04, .q4_0: 0.35]
        var relativeL2: [WeightFormat: Double] = [:]
        for format in WeightFormat.allCases {
            let model = try load(path, format, strategy: strategy)
            let result = try run(model)
            var worst: Float = 0
            var difference: Double = 0
            var norm: Double = 0
            for i in reference.logits.indices {
                worst = max(worst, abs(result.logits[i] - reference.logits[i]))
                difference +=
                    Double(result.logits[i] - reference.logits[i]) * Double(result.logits[i] - reference.logits[i])
                norm += Double(reference.logits[i]) * Double(reference.logits[i])
            }
            let relative = (difference / norm).squareRoot()
            relativeL2[format] = relative
            #expect(worst <= tolerance[format]! * scale, "\(format): max difference \(worst), scale \(scale)")
            #expect(relative <= relativeL2Bound[format]!, "\(format): relative L2 difference \(relative)")
            switch format {
            case .native:
                #expect(model.matrixTypes == [.q4_1])
            case .f32:
                #expect(model.matrixTypes == [.f32])
                #expect(result.tokens == reference.tokens)
                if strategy == .scalar { #expect(result.logits == reference.logits) }
            case .f16, .q8_0, .q4_0:
                #expect(model.matrixTypes == [format.type!])
                // Converted for real: requantizing changes the logits.
                #expect(result.logits != reference.logits, "\(format)")
            }
            print(
                "WeightFormatTests \(strategy) \(format): max logit difference \(worst) (scale \(scale)), relative L2 \(relative)"
            )
        }
        // Fewer bits, further from the original: f16 < q8_0 < q4_0.
        #expect(relativeL2[.f16]! < relativeL2[.q8_0]! && relativeL2[.q8_0]! < relativeL2[.q4_0]!, "\(relativeL2)")
    }

    @Test func loadTakesASharedBackendAndFormat() throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        let target = try TransformerModel.load(path: path, threads: 2, contextLength: 16)
        let draft = try TransformerModel.load(path: path, contextLength: 16, weights: .q4_0, backend: target.backend)
        let shared = draft.backend === target.backend
        #expect(shared)
        #expect(target.weightFormat == .native && target.matrixTypes == [.q8_0])
        #expect(draft.weightFormat == .q4_0 && draft.matrixTypes == [.q4_0])
        // Both run on the shared backend, one after the other.
        let a = ForwardHarness(model: target)
        let b = ForwardHarness(model: draft)
        try a.prefill(Self.prompt)
        try b.prefill(Self.prompt)
        #expect(a.currentLogits!.count == b.currentLogits!.count)
    }
}
