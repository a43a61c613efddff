package org.dnonative.kernel;

/** Conversions between float and the 16-bit formats (IEEE binary16 and bfloat16), round to nearest even. */
public final class Half {
    private Half() {}

    /** {@code f} as the 16-bit {@code type} (BFLOAT16 or FLOAT16). */
    public static short to(ElementType type, float f) {
        return type == ElementType.BFLOAT16 ? floatToBf16(f) : floatToF16(f);
    }

    /** The 16-bit {@code type} value {@code h} as a float. */
    public static float from(ElementType type, short h) {
        return type == ElementType.BFLOAT16 ? bf16ToFloat(h) : f16ToFloat(h);
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) return (short) ((x >>> 16) | 0x40); // quiet NaN
        int rounding = 0x7fff + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }

    public static float f16ToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            float v = mant * 0x1p-24f; // subnormal
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    public static short floatToF16(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7fffffff;
        if (abs > 0x7f800000) return (short) (sign | 0x7e00);
        if (abs >= 0x477ff000) return (short) (sign | 0x7c00); // rounds to infinity (>= 65520)
        if (abs < 0x38800000) { // subnormal or zero in f16
            float v = Float.intBitsToFloat(abs);
            int m = Math.round(v * 0x1p24f); // Math.round is half-up; fine below the normal range
            // round half to even for exact ties
            float exact = v * 0x1p24f;
            if (exact - Math.floor(exact) == 0.5 && (m & 1) == 1) m -= 1;
            return (short) (sign | m);
        }
        int exp = ((abs >>> 23) - 112) << 10;
        int mant = abs & 0x7fffff;
        int half = exp | (mant >>> 13);
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) half++;
        return (short) (sign | half);
    }
}
