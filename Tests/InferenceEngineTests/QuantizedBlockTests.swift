import InferenceTestSupport
import Testing

@testable import InferenceEngine

@Suite struct QuantizedBlockTests {
    func decode(_ type: GGMLType, _ bytes: [UInt8], count: Int = 32) -> [Float] {
        bytes.withUnsafeBytes { QuantizedBlocks.decode(type, from: $0.baseAddress!, count: count) }
    }

    @Test func q8_0() {
        // d = 0.5 (f16 0x3800), q[j] = j - 16
        let bytes: [UInt8] = [0x00, 0x38] + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
        #expect(decode(.q8_0, bytes) == (0..<32).map { Float($0 - 16) * 0.5 })
    }

    @Test func q4_0() {
        // d = 2 (0x4000); byte j: low nibble j (value j), high nibble 15 - j (value j + 16)
        let nibbles: [UInt8] = (0..<16).map { (j: Int) -> UInt8 in UInt8(j) | UInt8(15 - j) << 4 }
        let bytes: [UInt8] = [0x00, 0x40] + nibbles
        let low: [Float] = (0..<16).map { (j: Int) -> Float in Float(j - 8) * 2 }
        let high: [Float] = (0..<16).map { (j: Int) -> Float in Float(7 - j) * 2 }
        let expected = low + high
        #expect(decode(.q4_0, bytes) == expected)
    }

    @Test func q4_1() {
        // d = 0.25 (0x3400), m = -1 (0xBC00); byte j: low nibble j, high nibble (3j) mod 16
        let nibbles: [UInt8] = (0..<16).map { (j: Int) -> UInt8 in UInt8(j) | UInt8((3 * j) % 16) << 4 }
        let bytes: [UInt8] = [0x00, 0x34, 0x00, 0xBC] + nibbles
        let low: [Float] = (0..<16).map { (j: Int) -> Float in 0.25 * Float(j) - 1 }
        let high: [Float] = (0..<16).map { (j: Int) -> Float in 0.25 * Float((3 * j) % 16) - 1 }
        let expected = low + high
        #expect(decode(.q4_1, bytes) == expected)
    }

    @Test func f16() {
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00, 0x0000, 0x8000, 0x3555]
        let bytes = halves.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        let values = decode(.f16, bytes, count: halves.count)
        #expect(values[0] == 1)
        #expect(values[1] == -2)
        #expect(values[2] == 0.5)
        #expect(values[3] == 65504)
        #expect(values[4] == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(values[5] == .infinity)
        #expect(values[6] == 0 && values[6].sign == .plus)
        #expect(values[7] == 0 && values[7].sign == .minus)
        #expect(values[8] == 0.333251953125)
    }

    @Test func halfRoundTripAndRounding() {
        for bits in stride(from: 0, to: 0x7C00, by: 7) {
            #expect(Half.fromFloat(Half.toFloat(UInt16(bits))) == UInt16(bits))
        }
        #expect(Half.fromFloat(1 + 1.0 / 2048) == 0x3C00)  // tie rounds to even
        #expect(Half.fromFloat(1e6) == 0x7C00)
    }

    @Test func encodersAreDecodedBack() {
        var random = TestRandom(state: 3)
        let values = random.values(64, scale: 2)
        for type in GGMLType.allCases {
            let bytes = QuantizedBlocks.encode(values, as: type)
            #expect(bytes.count == type.byteCount(elements: 64))
            let decoded = bytes.withUnsafeBytes { QuantizedBlocks.decode(type, from: $0.baseAddress!, count: 64) }
            let tolerance: Float = [.f32: 0, .f16: 0.002, .q8_0: 0.01, .q4_0: 0.26, .q4_1: 0.14][type]!
            for i in 0..<64 { #expect(abs(decoded[i] - values[i]) <= tolerance) }
        }
    }

    /// The register-level unit decoders used by the matrix kernels agree with the scalar reference, in the order
    /// their `sourceIndex` states.
    @Test func simdUnitDecodersMatchScalar() {
        var random = TestRandom(state: 11)
        let values = random.values(64, scale: 3)
        func check<B: BlockFormat>(_: B.Type, _ type: GGMLType) {
            let bytes = QuantizedBlocks.encode(values, as: type)
            #expect(bytes.count == B.unitBytes)
            bytes.withUnsafeBytes { raw in
                let scalar = QuantizedBlocks.decode(type, from: raw.baseAddress!, count: 64)
                var decoded: [Float] = []
                for part in 0..<2 {
                    let d = B.decode(raw.baseAddress!, part: part)
                    for v in [d.0, d.1, d.2, d.3] { for l in 0..<8 { decoded.append(v[l]) } }
                }
                #expect(Set((0..<64).map(B.sourceIndex)).count == 64, "\(type.name) permutation")
                for j in 0..<64 { #expect(decoded[j] == scalar[B.sourceIndex(j)], "\(type.name) position \(j)") }
            }
        }
        check(F32Block.self, .f32)
        check(F16Block.self, .f16)
        check(Q8_0Block.self, .q8_0)
        check(Q4_0Block.self, .q4_0)
        check(Q4_1Block.self, .q4_1)
    }
}
