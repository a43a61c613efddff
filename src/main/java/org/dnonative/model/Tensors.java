package org.dnonative.model;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.io.DType;

import java.nio.ByteBuffer;

/** Small conversions between Java arrays and libtorch tensors. All results are owned by the caller. */
public final class Tensors {
    private Tensors() {}

    public static final torch.ScalarType FLOAT = torch.ScalarType.Float;
    public static final torch.ScalarType LONG = torch.ScalarType.Long;
    public static final torch.ScalarType BOOL = torch.ScalarType.Bool;

    /** Whether t holds float32 (JavaCPP returns a fresh enum object, so compare interned). */
    public static boolean isFloat32(Tensor t) {
        return t.scalar_type().intern() == FLOAT;
    }

    public static TensorOptions options(torch.ScalarType type) {
        return new TensorOptions(type);
    }

    public static Scalar scalar(double v) {
        return new Scalar(v);
    }

    public static Tensor fromFloats(float[] data, long... shape) {
        Tensor t = torch.empty(shape, options(FLOAT), null);
        try (FloatPointer p = new FloatPointer(t.data_ptr())) {
            p.put(data, 0, data.length);
        }
        return t;
    }

    public static Tensor fromLongs(long[] data, long... shape) {
        Tensor t = torch.empty(shape, options(LONG), null);
        try (LongPointer p = new LongPointer(t.data_ptr())) {
            p.put(data, 0, data.length);
        }
        return t;
    }

    /** A float32 CPU tensor copied from little-endian bytes of the given safetensors dtype. */
    public static Tensor fromBytes(ByteBuffer data, DType dtype, long[] shape) {
        torch.ScalarType st = switch (dtype) {
            case F32 -> torch.ScalarType.Float;
            case BF16 -> torch.ScalarType.BFloat16;
            case F16 -> torch.ScalarType.Half;
            case F64 -> torch.ScalarType.Double;
            default -> throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
        };
        Tensor t = torch.empty(shape, options(st), null);
        ByteBuffer src = data.duplicate();
        if (src.remaining() != t.nbytes()) throw new IllegalArgumentException("byte length mismatch");
        try (BytePointer p = new BytePointer(t.data_ptr())) {
            p.capacity(t.nbytes());
            p.asByteBuffer().put(src);
        }
        if (st == FLOAT) return t;
        Tensor f = t.to(FLOAT);
        t.close();
        return f;
    }

    /**
     * A float32 CPU tensor over {@code mapped}'s memory (no copy), or null when the bytes are not
     * 4-byte aligned (a valid file may place a tensor anywhere). The tensor does not own the
     * memory: the caller keeps {@code mapped} reachable for as long as the tensor or any view of it lives.
     */
    public static Tensor overMapped(ByteBuffer mapped, long[] shape) {
        if (!mapped.isDirect() || mapped.capacity() == 0) return null;
        org.bytedeco.javacpp.Pointer p = new org.bytedeco.javacpp.Pointer(mapped);
        if ((p.address() & 3) != 0) return null;
        return torch.from_blob(p, shape, options(FLOAT));
    }

    /** The tensor's values as a float array (copied to the CPU and converted to float32 when needed). */
    public static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(new Device(torch.DeviceType.CPU), FLOAT).contiguous();
        float[] out = new float[(int) c.numel()];
        try (FloatPointer p = new FloatPointer(c.data_ptr())) {
            p.get(out);
        }
        return out;
    }

    /**
     * {@link #toFloats(Tensor)} into {@code reuse} when it has exactly the tensor's number of
     * elements (else into a new array); a float32 CPU tensor is read in place, without a copy.
     */
    public static float[] toFloats(Tensor t, float[] reuse) {
        Tensor c = t.is_cpu() && isFloat32(t) && t.is_contiguous() ? t : t.detach().to(CPU, FLOAT).contiguous();
        int n = (int) c.numel();
        float[] out = reuse != null && reuse.length == n ? reuse : new float[n];
        try (FloatPointer p = new FloatPointer(c.data_ptr())) {
            p.get(out, 0, n);
        }
        return out;
    }

    private static final Device CPU = new Device(torch.DeviceType.CPU);

    public static long[] toLongs(Tensor t) {
        Tensor c = t.detach().to(new Device(torch.DeviceType.CPU), LONG).contiguous();
        long[] out = new long[(int) c.numel()];
        try (LongPointer p = new LongPointer(c.data_ptr())) {
            p.get(out);
        }
        return out;
    }

    public static TensorVector vector(Iterable<Tensor> tensors) {
        TensorVector v = new TensorVector();
        for (Tensor t : tensors) v.push_back(t);
        return v;
    }
}
