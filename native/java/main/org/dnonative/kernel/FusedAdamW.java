package org.dnonative.kernel;

import org.bytedeco.javacpp.DoublePointer;

/**
 * The optimizer step of training for float32 parameters in host memory: AdamW in one pass over
 * each tensor, and the squared gradient norm that gradient clipping needs.
 *
 * <p>Why: AdamW composed of in-place tensor ops makes about ten passes over every parameter and
 * allocates three parameter-sized temporaries per tensor each step (a 39.6M-parameter model: a
 * quarter of a training step on the 2-core build machine, much of it faulting in fresh pages).
 * This reads the parameter, gradient and both moments once and writes them once, split over
 * threads in fixed blocks.
 *
 * <p>Exact: every operation is a correctly rounded float32 operation in a fixed sequence
 * (native/src/cpu_adamw.inc), so the result is bitwise the same for every CPU build, thread count
 * and run. The sequence is that of torch.optim.AdamW's single-tensor update; it differs from
 * libtorch's own in-place ops only where those round differently (libtorch's vectorised float32
 * square root is not always correctly rounded).
 *
 * <p>Addresses are host memory (JavaCPP pointers, direct buffers, libtorch CPU data pointers);
 * this class needs no libtorch.
 */
public final class FusedAdamW {
    /** The hyper-parameters of one step; {@code step} counts from 1 (bias corrections 1 - beta^step). */
    public record Hyper(double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
        public Hyper {
            if (!(lr >= 0) || !Double.isFinite(lr)) throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
            if (!(eps > 0) || !Double.isFinite(eps)) throw new IllegalArgumentException("eps must be finite and > 0, got " + eps);
            if (!(weightDecay >= 0) || !Double.isFinite(weightDecay))
                throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
            if (step < 1) throw new IllegalArgumentException("step must be at least 1, got " + step);
        }

        public double biasCorrection1() { return 1 - Math.pow(beta1, step); }

        public double biasCorrection2() { return 1 - Math.pow(beta2, step); }
    }

    private FusedAdamW() {}

    /**
     * Sum of squares of {@code n} floats at {@code grad}, in float64 (fixed order: the same for every
     * thread count).
     *
     * @throws DnoException with status NONFINITE, naming the block of elements, when one is NaN or infinite
     */
    public static double gradSquaredNorm(long n, long grad, int numThreads) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (n > 0 && grad == 0) throw new IllegalArgumentException("grad address is 0");
        checkThreads(numThreads);
        if (n == 0) return 0;
        NativeLibrary.ensureLoaded();
        try (DoublePointer out = new DoublePointer(1)) {
            NativeLibrary.check(DnoNative.dno_grad_sq_norm_cpu(n, grad, out.address(), 0, numThreads));
            return out.get();
        }
    }

    /**
     * One AdamW update of {@code n} float32 parameters in place: {@code g = grad · gradScale}, then
     * the update with {@code decay} deciding whether weight decay applies to this tensor.
     *
     * @param expAvg   the first moment, {@code n} floats (zero before the first step)
     * @param expAvgSq the second moment, {@code n} floats (zero before the first step)
     * @param zeroGrad leave the gradient zero afterwards (saves a pass)
     */
    public static void step(long n, long param, long grad, long expAvg, long expAvgSq, Hyper h, boolean decay,
                            float gradScale, boolean zeroGrad, int numThreads) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (h == null) throw new IllegalArgumentException("hyper-parameters are null");
        if (n > 0) {
            if (param == 0) throw new IllegalArgumentException("param address is 0");
            if (grad == 0) throw new IllegalArgumentException("grad address is 0");
            if (expAvg == 0) throw new IllegalArgumentException("expAvg address is 0");
            if (expAvgSq == 0) throw new IllegalArgumentException("expAvgSq address is 0");
        }
        if (!Float.isFinite(gradScale)) throw new IllegalArgumentException("gradScale must be finite, got " + gradScale);
        checkThreads(numThreads);
        if (n == 0) return;
        NativeLibrary.ensureLoaded();
        NativeLibrary.check(DnoNative.dno_adamw_cpu(n, param, grad, expAvg, expAvgSq, h.lr(), h.beta1(), h.beta2(),
                h.eps(), decay ? h.weightDecay() : 0.0, h.biasCorrection1(), h.biasCorrection2(), gradScale,
                zeroGrad ? 1 : 0, numThreads));
    }

    private static void checkThreads(int numThreads) {
        if (numThreads < 0 || numThreads > 1024)
            throw new IllegalArgumentException("numThreads must be in [0, 1024], got " + numThreads);
    }
}
