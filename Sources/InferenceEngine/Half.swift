/// IEEE 754 half-precision conversion done with integer operations, so it needs no F16C support.
public enum Half {
    /// Converts half-precision bits to a Float (exact, including subnormals, infinities and NaN).
    @inline(__always)
    public static func toFloat(_ h: UInt16) -> Float {
        let magnitude = UInt32(h & 0x7fff) << 13
        var f = Float(bitPattern: magnitude) * Float(bitPattern: 0x7780_0000)  // * 2^112 rebiases the exponent
        if h & 0x7c00 == 0x7c00 { f = Float(bitPattern: magnitude | 0x7f80_0000) }
        return h & 0x8000 != 0 ? -f : f
    }

    /// Converts a Float to half-precision bits, rounding to nearest even.
    public static func fromFloat(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xff)
        let mantissa = bits & 0x7f_ffff
        if exponent == 0xff { return sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0) }
        let e = exponent - 127 + 15
        if e >= 31 { return sign | 0x7c00 }
        if e <= 0 {
            if e < -10 { return sign }
            let m = mantissa | 0x80_0000
            let shift = UInt32(14 - e)
            var half = m >> shift
            let remainder = m & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1fff
        if remainder > 0x1000 || (remainder == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }
}
