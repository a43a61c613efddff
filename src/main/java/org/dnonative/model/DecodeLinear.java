package org.dnonative.model;

import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.SmallLinear;

/**
 * The linear layers of a decode step through the project's own kernel ({@link SmallLinear}):
 * float32, on the CPU, without autograd, at most {@link SmallLinear#MAX_EFFICIENT_ROWS} rows.
 *
 * <p>Why: one sampled token per sequence makes every projection a product of a few rows with a
 * whole weight matrix. libtorch hands it to OpenBLAS, which packs the weight on every call; the
 * packing was 45% of a decode step (perf, 2026-12-02), and the tied lm_head [32000, 512] at 8 rows
 * took 17.7 ms where the kernel streams it in about 4-5 ms. Everything else (prefill, scoring,
 * training, whole-model bf16 copies, CUDA, autocast) stays on libtorch, so gradients and mixed precision are
 * untouched. Weights under {@link #MIN_WEIGHT} elements stay on libtorch too: their packing costs
 * nothing worth saving, and the embedded demo's tiny policy then samples exactly as before.
 * {@code DNO_DECODE_LINEAR=libtorch} turns it off (to compare the two).
 *
 * <p>The kernel runs on the calling thread, or on {@link #withThreads} threads: a sampling batch
 * that has compute threads to itself (fewer batches than threads) splits each product's columns
 * over them, which reads each part of the weight once, unlike splitting the batch's rows.
 */
final class DecodeLinear {
    private static final boolean ENABLED = !"libtorch".equals(System.getenv("DNO_DECODE_LINEAR"));
    /** 2^16 elements (256 KB in float32): a hidden-256 model's square projections and up. */
    static final long MIN_WEIGHT = 1L << 16;
    private static final ThreadLocal<Integer> THREADS = ThreadLocal.withInitial(() -> 1);

    private DecodeLinear() {}

    /** {@code x · wᵀ (+ bias)} by the kernel, or null when this call is not one it takes. */
    static Tensor tryApply(Tensor x, Tensor w, Tensor bias) {
        return tryApply(x, w, bias, null);
    }

    /**
     * The same, reading {@code wBf16} (w's bf16 copy, same shape, contiguous) instead of w when it is
     * not null: half the bytes, widened exactly to float32 in the kernel.
     */
    static Tensor tryApply(Tensor x, Tensor w, Tensor bias, Tensor wBf16) {
        if (!ENABLED || GradMode.is_enabled()) return null;
        if (!x.is_cpu() || !Tensors.isFloat32(x) || !Tensors.isFloat32(w)) return null;
        if (w.dim() != 2 || !w.is_contiguous() || x.dim() < 1 || w.numel() < MIN_WEIGHT) return null;
        if (torch.is_autocast_enabled(torch.DeviceType.CPU)) return null;
        long in = w.size(1), out = w.size(0);
        if (x.size(-1) != in) return null;  // libtorch reports the shape error
        long rows = x.numel() / in;
        if (rows < 1 || rows > SmallLinear.MAX_EFFICIENT_ROWS) return null;
        if (bias != null && (!Tensors.isFloat32(bias) || !bias.is_contiguous() || bias.numel() != out))
            return null;
        Tensor xc = x.contiguous();
        long[] shape = x.sizes().vec().get();
        shape[shape.length - 1] = out;
        Tensor y = torch.empty(shape, Tensors.options(Tensors.FLOAT), null);
        SmallLinear.apply(rows, in, out, xc.data_ptr().address(), in, wBf16 != null ? ElementType.BFLOAT16 : ElementType.FLOAT32,
                (wBf16 != null ? wBf16 : w).data_ptr().address(), bias == null ? 0 : bias.data_ptr().address(),
                y.data_ptr().address(), THREADS.get());
        return y;
    }

    /** Whether the kernel is in use (not switched off by DNO_DECODE_LINEAR=libtorch). */
    static boolean enabled() {
        return ENABLED;
    }

    /** The threads the kernel uses on this thread (1 unless inside {@link #withThreads}). */
    static int threads() {
        return THREADS.get();
    }

    /** Runs body with the kernel on {@code threads} threads on this thread (then back to one). */
    static <T> T withThreads(int threads, java.util.concurrent.Callable<T> body) throws Exception {
        THREADS.set(Math.max(1, threads));
        try {
            return body.call();
        } finally {
            THREADS.remove();
        }
    }
}
