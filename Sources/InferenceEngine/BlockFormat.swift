/// Eight `SIMD8<Float>` registers' worth of decoded weights would not fit the 16 SSE registers alongside the
/// accumulators, so a 64-value unit is decoded in two parts of four vectors.
typealias DecodedPart = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

/// How 64 consecutive values of a weight row (a "unit": two blocks of a quantized type) are decoded into
/// registers.
///
/// Decoding avoids the standard library's generic SIMD conversions (they are not inlined and run lane by lane):
/// nibbles and bytes are pulled out of 32-bit lanes with shifts and masks, and integers become floats through the
/// exponent trick `bits(0x4B000000 | n) - 2^23 == n`. That leaves the values in a shuffled order, given by
/// `sourceIndex`; the kernels shuffle the input vector the same way once per call instead.
protocol BlockFormat {
    /// Bytes per 64 values.
    static var unitBytes: Int { get }
    /// Decodes part `part` (0 or 1) of the unit at `unit`: position `j` of the four vectors (lane-major,
    /// `j = vector * 8 + lane`) holds value `sourceIndex(part * 32 + j)` of the unit.
    static func decode(_ unit: UnsafeRawPointer, part: Int) -> DecodedPart
    /// Which of the unit's 64 values lands at decoded position `j`.
    static func sourceIndex(_ j: Int) -> Int
}

@inline(__always)
private func nibbleFloats(_ w: SIMD8<UInt32>, shift: UInt32) -> SIMD8<Float> {
    unsafeBitCast(((w &>> shift) & 0x0F) | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_608
}

@inline(__always)
private func lanes(_ a: Float, _ b: Float) -> SIMD8<Float> {
    SIMD8(a, a, a, a, b, b, b, b)
}

/// Q4 pair: lanes 0–3 hold the 16 quant bytes of block A as four u32 words, lanes 4–7 those of block B. Group `g`
/// (0…7) is byte `g / 2` of each word, low nibble for even `g`: lane `l` then holds value
/// `4 * (l % 4) + g / 2 + 16 * (g % 2)` of block `l / 4`.
@inline(__always)
private func q4SourceIndex(_ j: Int) -> Int {
    let g = j / 8
    let l = j % 8
    return (l / 4) * 32 + 4 * (l % 4) + g / 2 + 16 * (g % 2)
}

@inline(__always)
private func q4Decode(_ unit: UnsafeRawPointer, part: Int, header: Int, blockBytes: Int) -> (SIMD8<UInt32>, Int) {
    let w = SIMD8<UInt32>(
        lowHalf: unit.loadUnaligned(fromByteOffset: header, as: SIMD4<UInt32>.self),
        highHalf: unit.loadUnaligned(fromByteOffset: blockBytes + header, as: SIMD4<UInt32>.self))
    return (w, part * 16)
}

enum Q4_0Block: BlockFormat {
    static var unitBytes: Int { 36 }
    static func sourceIndex(_ j: Int) -> Int { q4SourceIndex(j) }

    @inline(__always)
    static func decode(_ unit: UnsafeRawPointer, part: Int) -> DecodedPart {
        let (w, s) = q4Decode(unit, part: part, header: 2, blockBytes: 18)
        let d = lanes(
            Half.toFloat(unit.loadUnaligned(as: UInt16.self)),
            Half.toFloat(unit.loadUnaligned(fromByteOffset: 18, as: UInt16.self)))
        let offset = d * -8
        let shift = UInt32(s)
        return (
            nibbleFloats(w, shift: shift) * d + offset, nibbleFloats(w, shift: shift + 4) * d + offset,
            nibbleFloats(w, shift: shift + 8) * d + offset, nibbleFloats(w, shift: shift + 12) * d + offset
        )
    }
}

enum Q4_1Block: BlockFormat {
    static var unitBytes: Int { 40 }
    static func sourceIndex(_ j: Int) -> Int { q4SourceIndex(j) }

    @inline(__always)
    static func decode(_ unit: UnsafeRawPointer, part: Int) -> DecodedPart {
        let (w, s) = q4Decode(unit, part: part, header: 4, blockBytes: 20)
        let d = lanes(
            Half.toFloat(unit.loadUnaligned(as: UInt16.self)),
            Half.toFloat(unit.loadUnaligned(fromByteOffset: 20, as: UInt16.self)))
        let m = lanes(
            Half.toFloat(unit.loadUnaligned(fromByteOffset: 2, as: UInt16.self)),
            Half.toFloat(unit.loadUnaligned(fromByteOffset: 22, as: UInt16.self)))
        let shift = UInt32(s)
        return (
            nibbleFloats(w, shift: shift) * d + m, nibbleFloats(w, shift: shift + 4) * d + m,
            nibbleFloats(w, shift: shift + 8) * d + m, nibbleFloats(w, shift: shift + 12) * d + m
        )
    }
}

/// Q8_0 pair: part `p` is block `p`; its 32 quant bytes are eight u32 words, vector `k` is byte `k` of each word,
/// so lane `i` holds value `4 * i + k`.
enum Q8_0Block: BlockFormat {
    static var unitBytes: Int { 68 }
    static func sourceIndex(_ j: Int) -> Int {
        let p = j / 32
        let k = (j % 32) / 8
        return p * 32 + 4 * (j % 8) + k
    }

    @inline(__always)
    static func decode(_ unit: UnsafeRawPointer, part: Int) -> DecodedPart {
        let block = unit + part * 34
        let d = Half.toFloat(block.loadUnaligned(as: UInt16.self))
        let w = block.loadUnaligned(fromByteOffset: 2, as: SIMD8<Int32>.self)
        @inline(__always) func byte(_ k: Int32) -> SIMD8<Float> {
            let v = (w &<< (24 - 8 * k)) &>> 24
            return (unsafeBitCast(v &+ 0x4B40_0000, to: SIMD8<Float>.self) - 12_582_912) * d
        }
        return (byte(0), byte(1), byte(2), byte(3))
    }
}

/// F16: part `p` covers halves `32p ..< 32p + 32` as two vectors of u32 words; low halves first.
enum F16Block: BlockFormat {
    static var unitBytes: Int { 128 }
    static func sourceIndex(_ j: Int) -> Int {
        let p = j / 32
        let v = (j % 32) / 8
        return p * 32 + (v / 2) * 16 + 2 * (j % 8) + v % 2
    }

    @inline(__always)
    static func halves(_ h: SIMD8<UInt32>) -> SIMD8<Float> {
        let magnitude = (h & 0x7fff) &<< 13
        let f = unsafeBitCast(magnitude, to: SIMD8<Float>.self) * Float(bitPattern: 0x7780_0000)
        return unsafeBitCast(unsafeBitCast(f, to: SIMD8<UInt32>.self) | ((h & 0x8000) &<< 16), to: SIMD8<Float>.self)
    }

    @inline(__always)
    static func decode(_ unit: UnsafeRawPointer, part: Int) -> DecodedPart {
        let w0 = unit.loadUnaligned(fromByteOffset: part * 64, as: SIMD8<UInt32>.self)
        let w1 = unit.loadUnaligned(fromByteOffset: part * 64 + 32, as: SIMD8<UInt32>.self)
        return (halves(w0 & 0xffff), halves(w0 &>> 16), halves(w1 & 0xffff), halves(w1 &>> 16))
    }
}

enum F32Block: BlockFormat {
    static var unitBytes: Int { 256 }
    static func sourceIndex(_ j: Int) -> Int { j }

    @inline(__always)
    static func decode(_ unit: UnsafeRawPointer, part: Int) -> DecodedPart {
        let p = unit + part * 128
        return (
            p.loadUnaligned(as: SIMD8<Float>.self), p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
            p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self),
            p.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
        )
    }
}
