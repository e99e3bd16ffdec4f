/// How one 32-value block of a weight row is stored and decoded into registers.
/// The matrix kernels are generic over this protocol and get specialised per format.
protocol BlockFormat {
    /// Bytes per 32 values.
    static var bytesPer32: Int { get }
    /// Decodes 32 values: the first 16 into `.0`, the last 16 into `.1`.
    static func decode(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>)
}

enum F32Block: BlockFormat {
    static var bytesPer32: Int { 128 }
    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        (
            block.loadUnaligned(as: SIMD16<Float>.self),
            block.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        )
    }
}

enum F16Block: BlockFormat {
    static var bytesPer32: Int { 64 }
    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let a = block.loadUnaligned(as: SIMD16<UInt16>.self)
        let b = block.loadUnaligned(fromByteOffset: 32, as: SIMD16<UInt16>.self)
        return (
            SIMD16(lowHalf: Half.toFloat8(a.lowHalf), highHalf: Half.toFloat8(a.highHalf)),
            SIMD16(lowHalf: Half.toFloat8(b.lowHalf), highHalf: Half.toFloat8(b.highHalf))
        )
    }
}

enum Q8_0Block: BlockFormat {
    static var bytesPer32: Int { 34 }
    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let d = Half.toFloat(block.loadUnaligned(as: UInt16.self))
        let a = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
        let b = block.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
        return (
            SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: a)) * d,
            SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: b)) * d
        )
    }
}

enum Q4_0Block: BlockFormat {
    static var bytesPer32: Int { 18 }
    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let d = Half.toFloat(block.loadUnaligned(as: UInt16.self))
        let bytes = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        let low = SIMD16<Int32>(truncatingIfNeeded: bytes & 0x0f) &- 8
        let high = SIMD16<Int32>(truncatingIfNeeded: bytes &>> 4) &- 8
        return (SIMD16<Float>(low) * d, SIMD16<Float>(high) * d)
    }
}

enum Q4_1Block: BlockFormat {
    static var bytesPer32: Int { 20 }
    @inline(__always)
    static func decode(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let d = Half.toFloat(block.loadUnaligned(as: UInt16.self))
        let m = Half.toFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        let bytes = block.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
        let low = SIMD16<Int32>(truncatingIfNeeded: bytes & 0x0f)
        let high = SIMD16<Int32>(truncatingIfNeeded: bytes &>> 4)
        return (SIMD16<Float>(low) * d + m, SIMD16<Float>(high) * d + m)
    }
}
