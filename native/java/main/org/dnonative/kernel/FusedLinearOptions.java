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
 */
public record FusedLinearOptions(long memoryBudget, boolean accumulate) {
    public static final long DEFAULT_MEMORY_BUDGET = 1L << 30;

    public FusedLinearOptions {
        if (memoryBudget < 0) throw new IllegalArgumentException("memoryBudget must be >= 0 bytes, got " + memoryBudget);
    }

    /** 1 GiB budget, gradients overwritten. */
    public static FusedLinearOptions defaults() {
        return new FusedLinearOptions(0, false);
    }

    public FusedLinearOptions withMemoryBudget(long bytes) {
        return new FusedLinearOptions(bytes, accumulate);
    }

    public FusedLinearOptions withAccumulate(boolean value) {
        return new FusedLinearOptions(memoryBudget, value);
    }
}
