package org.dnonative.io;

import java.util.Arrays;

/** One entry of a safetensors header: dtype, shape and the byte range [begin, end) within the data section. */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long byteLength() { return end - begin; }

    @Override
    public String toString() {
        return name + " " + dtype.safetensorsName() + Arrays.toString(shape);
    }
}
