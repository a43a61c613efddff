package org.dnonative.kernel;

/**
 * Settings of the fused-linear DNO loss beyond those of {@link DnoLossOptions}.
 *
 * @param memoryBudget bytes of extra memory one call may use for its chunks of logits and
 *                     bookkeeping; 0 for the default, {@link #DEFAULT_MEMORY_BUDGET} (1 GiB). On the
 *                     CPU with 16-bit weights, the float32 copies of the weight and of its gradient
 *                     (8*V*H bytes) come on top (see native/include/dno_loss.h)
 * @param accumulate   add the gradients into gradHidden / gradWeight / gradBias instead of
 *                     overwriting them
 * @param gemm         what computes the CPU path's three products (CUDA: cuBLAS either way)
 */
public record FusedLinearOptions(long memoryBudget, boolean accumulate, Gemm gemm) {
    public static final long DEFAULT_MEMORY_BUDGET = 1L << 30;

    /** The CPU path's GEMMs. */
    public enum Gemm {
        /** OpenBLAS's float32 cblas_sgemm (the default). */
        BLAS,
        /**
         * {@link AmxLinear}'s bf16x3 tile products (about float32 accuracy, ~2x faster on one
         * core; the lm_head is packed on every call, 4*V*H bytes of scratch on top of the
         * budget). Only where {@link AmxLinear#available()}, else the call throws UNSUPPORTED.
         */
        AMX
    }

    public FusedLinearOptions {
        if (memoryBudget < 0) throw new IllegalArgumentException("memoryBudget must be >= 0 bytes, got " + memoryBudget);
        if (gemm == null) throw new IllegalArgumentException("gemm is null (Gemm.BLAS or Gemm.AMX)");
    }

    /** 1 GiB budget, gradients overwritten, OpenBLAS. */
    public static FusedLinearOptions defaults() {
        return new FusedLinearOptions(0, false, Gemm.BLAS);
    }

    public FusedLinearOptions withMemoryBudget(long bytes) {
        return new FusedLinearOptions(bytes, accumulate, gemm);
    }

    public FusedLinearOptions withAccumulate(boolean value) {
        return new FusedLinearOptions(memoryBudget, value, gemm);
    }

    public FusedLinearOptions withGemm(Gemm value) {
        return new FusedLinearOptions(memoryBudget, accumulate, value);
    }
}
