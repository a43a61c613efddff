package org.dnonative.kernel;

/** Element types the kernels read and write, with their codes in native/include/dno_loss.h. */
public enum ElementType {
    FLOAT32(0, 4),
    BFLOAT16(1, 2),
    FLOAT16(2, 2),
    INT32(3, 4),
    INT64(4, 8);

    private final int nativeCode;
    private final int bytes;

    ElementType(int nativeCode, int bytes) {
        this.nativeCode = nativeCode;
        this.bytes = bytes;
    }

    public int nativeCode() {
        return nativeCode;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloatingPoint() {
        return this == FLOAT32 || this == BFLOAT16 || this == FLOAT16;
    }
}
