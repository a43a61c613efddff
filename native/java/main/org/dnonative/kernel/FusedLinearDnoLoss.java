package org.dnonative.kernel;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;

/**
 * The DNO loss straight from the final hidden states and the lm_head, on the CPU, without
 * materialising the [N,T,V] logits: logits = hidden @ weight^T (+ bias) exist only for a chunk
 * of counted positions at a time, under {@link FusedLinearOptions#memoryBudget()}.
 *
 * <p>Layout: hidden [N,T,H], weight [V,H], bias [V] or null, one element type for the three;
 * labels, refLogps, targets as for {@link DnoLoss}. Gradients of the mean loss (times
 * {@link DnoLossOptions#gradScale()}): gradHidden [N,T,H] (zero at ignored positions),
 * gradWeight [V,H], gradBias [V] (needs bias), in the element type of hidden; each may be null
 * on its own, all null is forward only. With {@link FusedLinearOptions#accumulate()} they are
 * added to, otherwise overwritten.
 *
 * <p>The GEMMs run through OpenBLAS (the org.bytedeco openblas presets) in float32; 16-bit
 * inputs are converted to float32 chunk by chunk (the weight once per call). CUDA device memory
 * goes through {@link CudaFusedLinearDnoLoss}.
 */
public final class FusedLinearDnoLoss {
    private FusedLinearDnoLoss() {}

    /** OpenBLAS's cblas_sgemm and openblas_set_num_threads, found once. */
    private static final class Blas {
        static final long SGEMM;
        static final long SET_THREADS;

        static {
            Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            Pointer sgemm = Loader.addressof("cblas_sgemm");
            Pointer threads = Loader.addressof("openblas_set_num_threads");
            if (sgemm == null || sgemm.isNull())
                throw new DnoException(DnoException.Status.INTERNAL, "cblas_sgemm not found in the OpenBLAS presets");
            SGEMM = sgemm.address();
            SET_THREADS = threads == null ? 0 : threads.address();
        }
    }

    /** dno_amx_sgemm and dno_amx_sgemm_set_threads (libdnonative's CBLAS-shaped AMX GEMM), found once. */
    private static final class AmxGemm {
        static final long SGEMM;
        static final long SET_THREADS;

        static {
            NativeLibrary.ensureLoaded();
            Pointer sgemm = Loader.addressof("dno_amx_sgemm");
            Pointer threads = Loader.addressof("dno_amx_sgemm_set_threads");
            if (sgemm == null || sgemm.isNull() || threads == null || threads.isNull())
                throw new DnoException(DnoException.Status.INTERNAL, "dno_amx_sgemm not found in libdnonative");
            SGEMM = sgemm.address();
            SET_THREADS = threads.address();
        }
    }

    /** float32 hidden states and lm_head; the CLI's entry point. */
    public static FusedLinearResult compute(LossShape shape, int hiddenSize, float[] hidden, float[] weight,
                                            float[] bias, long[] labels, float[] refLogps, float[] targets,
                                            DnoLossOptions options, float[] gradHidden, float[] gradWeight,
                                            float[] gradBias) {
        return compute(shape, hiddenSize, hidden, weight, bias, labels, refLogps, targets, options,
                FusedLinearOptions.defaults(), gradHidden, gradWeight, gradBias);
    }

    public static FusedLinearResult compute(LossShape shape, int hiddenSize, float[] hidden, float[] weight,
                                            float[] bias, long[] labels, float[] refLogps, float[] targets,
                                            DnoLossOptions options, FusedLinearOptions fused, float[] gradHidden,
                                            float[] gradWeight, float[] gradBias) {
        checkArrays(shape, hiddenSize, hidden == null ? -1 : hidden.length, weight == null ? -1 : weight.length,
                bias == null ? -1 : bias.length, labels, refLogps, targets, gradHidden == null ? -1 : gradHidden.length,
                gradWeight == null ? -1 : gradWeight.length, gradBias == null ? -1 : gradBias.length);
        try (PointerScope scope = new PointerScope()) {
            FloatPointer h = new FloatPointer(hidden);
            FloatPointer w = new FloatPointer(weight);
            FloatPointer b = bias == null ? null : new FloatPointer(bias);
            FloatPointer gh = gradPointer(gradHidden, fused.accumulate());
            FloatPointer gw = gradPointer(gradWeight, fused.accumulate());
            FloatPointer gb = gradPointer(gradBias, fused.accumulate());
            FusedLinearResult r = run(shape, hiddenSize, ElementType.FLOAT32, h.address(), w.address(), addr(b),
                    new LongPointer(labels).address(), ElementType.INT64, refLogps, targets, options, fused, addr(gh),
                    addr(gw), addr(gb));
            if (gh != null) gh.get(gradHidden);
            if (gw != null) gw.get(gradWeight);
            if (gb != null) gb.get(gradBias);
            return r;
        }
    }

    /** 16-bit hidden states and lm_head held as raw bit patterns ({@code BFLOAT16} or {@code FLOAT16}). */
    public static FusedLinearResult compute(LossShape shape, int hiddenSize, short[] hidden, short[] weight,
                                            short[] bias, ElementType dtype, long[] labels, float[] refLogps,
                                            float[] targets, DnoLossOptions options, FusedLinearOptions fused,
                                            short[] gradHidden, short[] gradWeight, short[] gradBias) {
        if (dtype != ElementType.BFLOAT16 && dtype != ElementType.FLOAT16)
            throw new IllegalArgumentException("dtype must be BFLOAT16 or FLOAT16 for short[] hidden, got " + dtype);
        checkArrays(shape, hiddenSize, hidden == null ? -1 : hidden.length, weight == null ? -1 : weight.length,
                bias == null ? -1 : bias.length, labels, refLogps, targets, gradHidden == null ? -1 : gradHidden.length,
                gradWeight == null ? -1 : gradWeight.length, gradBias == null ? -1 : gradBias.length);
        try (PointerScope scope = new PointerScope()) {
            ShortPointer h = new ShortPointer(hidden);
            ShortPointer w = new ShortPointer(weight);
            ShortPointer b = bias == null ? null : new ShortPointer(bias);
            ShortPointer gh = gradPointer(gradHidden, fused.accumulate());
            ShortPointer gw = gradPointer(gradWeight, fused.accumulate());
            ShortPointer gb = gradPointer(gradBias, fused.accumulate());
            FusedLinearResult r = run(shape, hiddenSize, dtype, h.address(), w.address(), addr(b),
                    new LongPointer(labels).address(), ElementType.INT64, refLogps, targets, options, fused, addr(gh),
                    addr(gw), addr(gb));
            if (gh != null) gh.get(gradHidden);
            if (gw != null) gw.get(gradWeight);
            if (gb != null) gb.get(gradBias);
            return r;
        }
    }

    /**
     * Raw host addresses, for callers that own native memory (the libtorch adapter). The caller
     * guarantees the sizes; 0 for bias or a gradient means none.
     */
    public static FusedLinearResult computeAt(LossShape shape, long hiddenSize, ElementType dtype, long hidden,
                                              long weight, long bias, long labels, ElementType labelsType,
                                              float[] refLogps, float[] targets, DnoLossOptions options,
                                              FusedLinearOptions fused, long gradHidden, long gradWeight,
                                              long gradBias) {
        DnoLoss.checkTypes(dtype, labelsType);
        checkHiddenSize(hiddenSize);
        if (hidden == 0) throw new IllegalArgumentException("hidden address is 0");
        if (weight == 0) throw new IllegalArgumentException("weight address is 0");
        if (labels == 0) throw new IllegalArgumentException("labels address is 0");
        if (gradBias != 0 && bias == 0) throw new IllegalArgumentException("gradBias needs a bias (bias is 0)");
        DnoLoss.checkHost(shape, refLogps, targets);
        return run(shape, hiddenSize, dtype, hidden, weight, bias, labels, labelsType, refLogps, targets, options,
                fused, gradHidden, gradWeight, gradBias);
    }

    private static FusedLinearResult run(LossShape shape, long hiddenSize, ElementType dtype, long hidden, long weight,
                                         long bias, long labels, ElementType labelsType, float[] refLogps,
                                         float[] targets, DnoLossOptions options, FusedLinearOptions fused,
                                         long gradHidden, long gradWeight, long gradBias) {
        if (options == null) throw new IllegalArgumentException("options is null");
        if (fused == null) throw new IllegalArgumentException("fused options are null");
        NativeLibrary.ensureLoaded();
        boolean amx = fused.gemm() == FusedLinearOptions.Gemm.AMX;
        if (amx && !AmxLinear.available())
            throw new DnoException(DnoException.Status.UNSUPPORTED, "fused gemm AMX: " + AmxLinear.whyNotAvailable());
        long sgemm = amx ? AmxGemm.SGEMM : Blas.SGEMM, setThreads = amx ? AmxGemm.SET_THREADS : Blas.SET_THREADS;
        int n = Math.toIntExact(shape.sequences());
        int p = Math.toIntExact(shape.pairs());
        try (PointerScope scope = new PointerScope()) {
            FloatPointer ref = new FloatPointer(refLogps);
            FloatPointer tgt = targets == null ? null : new FloatPointer(targets);
            FloatPointer out = new FloatPointer(1 + n + 3L * p);
            LongPointer stats = new LongPointer(4);
            long o = out.address();
            int rc = DnoNative.dno_fused_linear_cpu(shape.pairs(), shape.seqLen(), hiddenSize, shape.vocab(),
                    dtype.nativeCode(), hidden, weight, bias, labelsType.nativeCode(), labels, options.ignoreIndex(),
                    ref.address(), addr(tgt), options.beta(), options.average() ? 1 : 0, options.gradScale(), o,
                    o + 4, o + 4 * (1L + n), o + 4 * (1L + n + p), o + 4 * (1L + n + 2L * p), gradHidden, gradWeight,
                    gradBias, fused.accumulate() ? 1 : 0, fused.memoryBudget(), stats.address(), sgemm, setThreads,
                    options.threads());
            // the AMX GEMM cannot return an error through CBLAS's signature: it records it instead
            int gemmRc = amx ? DnoNative.dno_amx_sgemm_take_error() : 0;
            NativeLibrary.check(gemmRc != 0 ? gemmRc : rc);
            return result(out, stats, n, p);
        }
    }

    private static FusedLinearResult result(FloatPointer out, LongPointer stats, int n, int p) {
        float[] all = new float[1 + n + 3 * p];
        out.get(all);
        return new FusedLinearResult(CudaLossBuffers.unpack(all, n, p), stats.get(0), stats.get(1), stats.get(2),
                stats.get(3));
    }

    static void checkHiddenSize(long hiddenSize) {
        if (hiddenSize <= 0) throw new IllegalArgumentException("hiddenSize must be > 0, got " + hiddenSize);
        if (hiddenSize > Integer.MAX_VALUE)
            throw new IllegalArgumentException("hiddenSize must be below 2^31, got " + hiddenSize);
    }

    /** Sizes of the host arrays (-1 = null), each failure naming its argument. */
    static void checkArrays(LossShape shape, long hiddenSize, long hidden, long weight, long bias, long[] labels,
                            float[] refLogps, float[] targets, long gradHidden, long gradWeight, long gradBias) {
        if (shape == null) throw new IllegalArgumentException("shape is null");
        checkHiddenSize(hiddenSize);
        long nth = shape.positions() * hiddenSize, vh = shape.vocab() * hiddenSize;
        if (hidden < 0) throw new IllegalArgumentException("hidden is null");
        if (hidden != nth)
            throw new IllegalArgumentException("hidden has " + hidden + " elements, expected N*T*H=" + nth + " for " + shape + " H=" + hiddenSize);
        if (weight < 0) throw new IllegalArgumentException("weight is null");
        if (weight != vh)
            throw new IllegalArgumentException("weight has " + weight + " elements, expected V*H=" + vh + " for " + shape + " H=" + hiddenSize);
        if (bias >= 0 && bias != shape.vocab())
            throw new IllegalArgumentException("bias has " + bias + " elements, expected V=" + shape.vocab());
        if (labels == null) throw new IllegalArgumentException("labels is null");
        if (labels.length != shape.positions())
            throw new IllegalArgumentException("labels has " + labels.length + " elements, expected N*T=" + shape.positions() + " for " + shape);
        if (gradHidden >= 0 && gradHidden != nth)
            throw new IllegalArgumentException("gradHidden has " + gradHidden + " elements, expected N*T*H=" + nth);
        if (gradWeight >= 0 && gradWeight != vh)
            throw new IllegalArgumentException("gradWeight has " + gradWeight + " elements, expected V*H=" + vh);
        if (gradBias >= 0 && bias < 0) throw new IllegalArgumentException("gradBias needs a bias (bias is null)");
        if (gradBias >= 0 && gradBias != shape.vocab())
            throw new IllegalArgumentException("gradBias has " + gradBias + " elements, expected V=" + shape.vocab());
        DnoLoss.checkHost(shape, refLogps, targets);
    }

    private static FloatPointer gradPointer(float[] grad, boolean accumulate) {
        if (grad == null) return null;
        return accumulate ? new FloatPointer(grad) : new FloatPointer(grad.length);
    }

    private static ShortPointer gradPointer(short[] grad, boolean accumulate) {
        if (grad == null) return null;
        return accumulate ? new ShortPointer(grad) : new ShortPointer(grad.length);
    }

    static long addr(Pointer p) {
        return p == null ? 0 : p.address();
    }
}
