package org.dnonative.kernel;

/** Conversions between float and the 16-bit formats, for tests (round to nearest even). */
final class Half {
    private Half() {}

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /** IEEE binary16, round to nearest even (finite inputs within the half range). */
    static short toF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        float a = Math.abs(f);
        if (a >= 65520f) return (short) (sign | 0x7C00);
        if (a < 6.103515625e-5f) {  // subnormal half: multiples of 2^-24
            int m = Math.round(a * 16777216f);  // Math.round is half-up; make it half-even
            if (Math.abs(a * 16777216f - Math.floor(a * 16777216f) - 0.5f) == 0f && (m & 1) == 1) m--;
            return (short) (sign | m);
        }
        int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mant = bits & 0x7FFFFF;
        int half = (exp << 10) | (mant >>> 13);
        int rest = mant & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) half++;
        return (short) (sign | half);
    }

    static float fromF16(short h) {
        int sign = (h & 0x8000) != 0 ? -1 : 1;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) return sign * mant * 5.9604644775390625e-8f;
        if (exp == 31) return mant == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
        return sign * (1 + mant / 1024f) * (float) Math.pow(2, exp - 15);
    }

    static short to(ElementType t, float f) {
        return t == ElementType.BFLOAT16 ? toBf16(f) : toF16(f);
    }

    static float from(ElementType t, short h) {
        return t == ElementType.BFLOAT16 ? fromBf16(h) : fromF16(h);
    }
}
