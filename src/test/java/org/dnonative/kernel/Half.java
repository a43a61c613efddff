package org.dnonative.kernel;

/** 16-bit conversions by kernel element type, for tests (round to nearest even; see org.dnonative.io.Half). */
final class Half {
    private Half() {}

    static short to(ElementType t, float f) {
        return t == ElementType.BFLOAT16 ? org.dnonative.io.Half.floatToBf16(f) : org.dnonative.io.Half.floatToF16(f);
    }

    static float from(ElementType t, short h) {
        return t == ElementType.BFLOAT16 ? org.dnonative.io.Half.bf16ToFloat(h) : org.dnonative.io.Half.f16ToFloat(h);
    }
}
