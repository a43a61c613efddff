package org.dnonative.io;

/**
 * Element types of the safetensors format, with their sizes and header names: every dtype the
 * reference library accepts, so that a file opens whatever it holds (only some can be read as
 * numbers here: {@link SafetensorsFile#readFloats}, {@link SafetensorsFile#readLongs}).
 */
public enum DType {
    F64("F64", 64), F32("F32", 32), F16("F16", 16), BF16("BF16", 16),
    I64("I64", 64), I32("I32", 32), I16("I16", 16), I8("I8", 8), U8("U8", 8), BOOL("BOOL", 8),
    U16("U16", 16), U32("U32", 32), U64("U64", 64), C64("C64", 64),
    F8_E5M2("F8_E5M2", 8), F8_E4M3("F8_E4M3", 8), F8_E8M0("F8_E8M0", 8),
    F8_E4M3FNUZ("F8_E4M3FNUZ", 8), F8_E5M2FNUZ("F8_E5M2FNUZ", 8),
    // sub-byte microscaling formats: a tensor of them must fill whole bytes (the reference's rule)
    F4("F4", 4), F6_E2M3("F6_E2M3", 6), F6_E3M2("F6_E3M2", 6);

    private final String safetensorsName;
    private final int bits;

    DType(String safetensorsName, int bits) {
        this.safetensorsName = safetensorsName;
        this.bits = bits;
    }

    public String safetensorsName() { return safetensorsName; }

    /** Bits per element (4 and 6 for the sub-byte formats). */
    public int bitSize() { return bits; }

    /** Bytes per element; refused for the sub-byte formats, which have no whole-byte element. */
    public int byteSize() {
        if (bits % 8 != 0) throw new IllegalStateException(safetensorsName + " elements are " + bits + " bits, not whole bytes");
        return bits / 8;
    }

    public boolean isFloatingPoint() { return this == F64 || this == F32 || this == F16 || this == BF16; }

    /** The dtype named {@code name} in a safetensors header, or null when the format has no such name. */
    public static DType fromSafetensorsName(String name) {
        for (DType d : values()) if (d.safetensorsName.equals(name)) return d;
        return null;
    }
}
