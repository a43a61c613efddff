package org.dnonative.kernel;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;

/**
 * The fused pairwise log-ratio DNO loss and its gradient on the CPU, for host memory: Java
 * arrays, direct NIO buffers, JavaCPP pointers or raw addresses. (CUDA device memory goes
 * through {@link CudaDnoLoss}; libtorch tensors through {@code org.dnonative.torch.TorchDnoLoss}.)
 *
 * <p>Layout: logits [N,T,V] row-major with N = 2P sequences, the chosen ones first; labels
 * [N,T]; refLogps [N]; targets [P] or null (hard targets, q = 1). The gradient of the mean
 * loss, times {@link DnoLossOptions#gradScale()}, is written to {@code grad} when it is not
 * null, which may be the logits themselves (in place). On any failure nothing is written to
 * {@code grad}. Every check that can be made in Java is made before the native call, and a
 * failure names the argument; what only the kernel can see (a NaN logit, an out-of-range label)
 * comes back as a {@link DnoException} naming the position.
 */
public final class DnoLoss {
    private DnoLoss() {}

    /**
     * The build of the CPU row kernels this process runs: {@code "baseline"} (x86-64),
     * {@code "avx2"} (x86-64-v3) or {@code "avx512"} (x86-64-v4). By default the best the CPU
     * supports; the environment variable {@code DNO_CPU_KERNELS=auto|baseline|avx2|avx512}, read
     * once per process, picks another (every build can then be tested on one machine).
     *
     * @throws DnoException (status {@code INVALID_ARGUMENT}) when {@code DNO_CPU_KERNELS} is
     *     unknown or names a build this CPU cannot run; every CPU loss call then fails the same way
     */
    public static String cpuKernels() {
        NativeLibrary.ensureLoaded();
        try (PointerPointer<BytePointer> name = new PointerPointer<>(1)) {
            NativeLibrary.check(DnoNative.dno_cpu_kernels(name));
            return name.getString(0);
        }
    }

    public static DnoLossResult compute(LossShape shape, float[] logits, int[] labels, float[] refLogps,
                                        float[] targets, DnoLossOptions options, float[] grad) {
        checkArrays(shape, logits.length, labels.length, refLogps, targets, grad == null ? -1 : grad.length);
        try (PointerScope scope = new PointerScope()) {
            FloatPointer x = new FloatPointer(logits);
            FloatPointer g = grad == null ? null : (grad == logits ? x : new FloatPointer(grad.length));
            DnoLossResult r = run(shape, x.address(), ElementType.FLOAT32, new IntPointer(labels).address(),
                    ElementType.INT32, refLogps, targets, options, g == null ? 0 : g.address());
            if (g != null) g.get(grad);
            return r;
        }
    }

    public static DnoLossResult compute(LossShape shape, float[] logits, long[] labels, float[] refLogps,
                                        float[] targets, DnoLossOptions options, float[] grad) {
        checkArrays(shape, logits.length, labels.length, refLogps, targets, grad == null ? -1 : grad.length);
        try (PointerScope scope = new PointerScope()) {
            FloatPointer x = new FloatPointer(logits);
            FloatPointer g = grad == null ? null : (grad == logits ? x : new FloatPointer(grad.length));
            DnoLossResult r = run(shape, x.address(), ElementType.FLOAT32, new LongPointer(labels).address(),
                    ElementType.INT64, refLogps, targets, options, g == null ? 0 : g.address());
            if (g != null) g.get(grad);
            return r;
        }
    }

    /** Half-precision logits held as raw 16-bit patterns ({@code BFLOAT16} or {@code FLOAT16}). */
    public static DnoLossResult compute(LossShape shape, short[] logits, ElementType logitsType, long[] labels,
                                        float[] refLogps, float[] targets, DnoLossOptions options, short[] grad) {
        if (logitsType != ElementType.BFLOAT16 && logitsType != ElementType.FLOAT16)
            throw new IllegalArgumentException("logitsType must be BFLOAT16 or FLOAT16 for short[] logits, got " + logitsType);
        checkArrays(shape, logits.length, labels.length, refLogps, targets, grad == null ? -1 : grad.length);
        try (PointerScope scope = new PointerScope()) {
            ShortPointer x = new ShortPointer(logits);
            ShortPointer g = grad == null ? null : (grad == logits ? x : new ShortPointer(grad.length));
            DnoLossResult r = run(shape, x.address(), logitsType, new LongPointer(labels).address(),
                    ElementType.INT64, refLogps, targets, options, g == null ? 0 : g.address());
            if (g != null) g.get(grad);
            return r;
        }
    }

    /** Direct NIO buffers, read from their position; grad may be the logits buffer or null. */
    public static DnoLossResult compute(LossShape shape, Buffer logits, ElementType logitsType, Buffer labels,
                                        ElementType labelsType, float[] refLogps, float[] targets,
                                        DnoLossOptions options, Buffer grad) {
        checkTypes(logitsType, labelsType);
        checkBuffer("logits", logits, shape.logitElements() * logitsType.bytes());
        checkBuffer("labels", labels, shape.positions() * labelsType.bytes());
        if (grad != null) checkBuffer("grad", grad, shape.logitElements() * logitsType.bytes());
        checkHost(shape, refLogps, targets);
        return run(shape, address(logits), logitsType, address(labels), labelsType, refLogps, targets, options,
                grad == null ? 0 : address(grad));
    }

    /** JavaCPP pointers, read from their position; grad may be the logits pointer or null. */
    public static DnoLossResult compute(LossShape shape, Pointer logits, ElementType logitsType, Pointer labels,
                                        ElementType labelsType, float[] refLogps, float[] targets,
                                        DnoLossOptions options, Pointer grad) {
        checkTypes(logitsType, labelsType);
        checkPointer("logits", logits, shape.logitElements() * logitsType.bytes());
        checkPointer("labels", labels, shape.positions() * labelsType.bytes());
        if (grad != null) checkPointer("grad", grad, shape.logitElements() * logitsType.bytes());
        checkHost(shape, refLogps, targets);
        return run(shape, logits.address() + logits.position() * logits.sizeof(), logitsType,
                labels.address() + labels.position() * labels.sizeof(), labelsType, refLogps, targets, options,
                grad == null ? 0 : grad.address() + grad.position() * grad.sizeof());
    }

    /**
     * Raw host addresses, for callers that own native memory (the libtorch adapter). The caller
     * guarantees the sizes; zero for {@code grad} means forward only.
     */
    public static DnoLossResult computeAt(LossShape shape, long logits, ElementType logitsType, long labels,
                                          ElementType labelsType, float[] refLogps, float[] targets,
                                          DnoLossOptions options, long grad) {
        checkTypes(logitsType, labelsType);
        if (logits == 0) throw new IllegalArgumentException("logits address is 0");
        if (labels == 0) throw new IllegalArgumentException("labels address is 0");
        checkHost(shape, refLogps, targets);
        return run(shape, logits, logitsType, labels, labelsType, refLogps, targets, options, grad);
    }

    private static DnoLossResult run(LossShape shape, long logits, ElementType logitsType, long labels,
                                     ElementType labelsType, float[] refLogps, float[] targets,
                                     DnoLossOptions options, long grad) {
        NativeLibrary.ensureLoaded();
        int n = Math.toIntExact(shape.sequences());
        int p = Math.toIntExact(shape.pairs());
        try (PointerScope scope = new PointerScope()) {
            FloatPointer ref = new FloatPointer(refLogps);
            FloatPointer tgt = targets == null ? null : new FloatPointer(targets);
            FloatPointer loss = new FloatPointer(1);
            FloatPointer logps = new FloatPointer(n);
            FloatPointer z = new FloatPointer(p);
            FloatPointer chosen = new FloatPointer(p);
            FloatPointer rejected = new FloatPointer(p);
            int rc = DnoNative.dno_loss_cpu(shape.pairs(), shape.seqLen(), shape.vocab(), logitsType.nativeCode(),
                    logits, labelsType.nativeCode(), labels, options.ignoreIndex(), ref.address(),
                    tgt == null ? 0 : tgt.address(), options.beta(), options.average() ? 1 : 0,
                    options.gradScale(), loss.address(), logps.address(), z.address(), chosen.address(),
                    rejected.address(), grad, options.threads());
            NativeLibrary.check(rc);
            return new DnoLossResult(loss.get(), toArray(logps, n), toArray(z, p), toArray(chosen, p),
                    toArray(rejected, p));
        }
    }

    static float[] toArray(FloatPointer p, int n) {
        float[] a = new float[n];
        p.get(a);
        return a;
    }

    static void checkTypes(ElementType logitsType, ElementType labelsType) {
        if (logitsType == null || !logitsType.isFloatingPoint())
            throw new IllegalArgumentException("logits must be FLOAT32, BFLOAT16 or FLOAT16, got " + logitsType);
        if (labelsType != ElementType.INT32 && labelsType != ElementType.INT64)
            throw new IllegalArgumentException("labels must be INT32 or INT64, got " + labelsType);
    }

    /** Checks refLogps and targets, which live on the host whatever the device of the logits. */
    static void checkHost(LossShape shape, float[] refLogps, float[] targets) {
        if (refLogps == null) throw new IllegalArgumentException("refLogps is null");
        if (refLogps.length != shape.sequences())
            throw new IllegalArgumentException("refLogps has " + refLogps.length + " elements, expected N=" + shape.sequences());
        for (int i = 0; i < refLogps.length; i++)
            if (!Float.isFinite(refLogps[i]))
                throw new IllegalArgumentException("refLogps[" + i + "] is not finite: " + refLogps[i]);
        if (targets == null) return;
        if (targets.length != shape.pairs())
            throw new IllegalArgumentException("targets has " + targets.length + " elements, expected P=" + shape.pairs());
        for (int i = 0; i < targets.length; i++)
            if (!(targets[i] >= 0f && targets[i] <= 1f))
                throw new IllegalArgumentException("targets[" + i + "] = " + targets[i] + " is outside [0,1]");
    }

    private static void checkArrays(LossShape shape, long logits, long labels, float[] refLogps, float[] targets,
                                    long grad) {
        if (logits != shape.logitElements())
            throw new IllegalArgumentException("logits has " + logits + " elements, expected N*T*V=" + shape.logitElements() + " for " + shape);
        if (labels != shape.positions())
            throw new IllegalArgumentException("labels has " + labels + " elements, expected N*T=" + shape.positions() + " for " + shape);
        if (grad >= 0 && grad != shape.logitElements())
            throw new IllegalArgumentException("grad has " + grad + " elements, expected N*T*V=" + shape.logitElements() + " for " + shape);
        checkHost(shape, refLogps, targets);
    }

    private static void checkBuffer(String name, Buffer b, long bytes) {
        if (b == null) throw new IllegalArgumentException(name + " is null");
        if (!b.isDirect()) throw new IllegalArgumentException(name + " must be a direct buffer");
        long have = (long) b.remaining() * elementBytes(b);
        if (have < bytes)
            throw new IllegalArgumentException(name + " holds " + have + " bytes from its position, expected at least " + bytes);
    }

    private static void checkPointer(String name, Pointer p, long bytes) {
        if (p == null || p.isNull()) throw new IllegalArgumentException(name + " is null");
        long limit = p.limit() > 0 ? p.limit() : p.capacity();
        if (limit > 0) {
            long have = (limit - p.position()) * p.sizeof();
            if (have < bytes)
                throw new IllegalArgumentException(name + " holds " + have + " bytes from its position, expected at least " + bytes);
        }
    }

    private static long address(Buffer b) {
        return new Pointer(b).address() + (long) b.position() * elementBytes(b);
    }

    private static int elementBytes(Buffer b) {
        if (b instanceof ByteBuffer) return 1;
        if (b instanceof ShortBuffer) return 2;
        if (b instanceof FloatBuffer || b instanceof IntBuffer) return 4;
        if (b instanceof LongBuffer || b instanceof DoubleBuffer) return 8;
        throw new IllegalArgumentException("unsupported buffer type " + b.getClass().getSimpleName());
    }
}
