package org.dnonative.kernel;

/**
 * {@code y = x · Wᵀ (+ bias)} in float32 for a few rows of {@code x}: the per-token step of
 * sampling, where each weight matrix is read once per generated token.
 *
 * <p>A GEMM library packs the weight into its own layout on every call, which at 1-16 rows
 * costs more than the product (OpenBLAS: 45% of a decode step). This kernel streams the weight
 * once, in the row-major {@code [out, in]} layout of a {@code torch.nn.Linear}, against all rows
 * at once. Beyond about 16 rows a GEMM library is faster; callers pick by row count.
 *
 * <p>Deterministic: bitwise the same result on every run and for every thread count, for the
 * CPU kernel build {@link DnoLoss#cpuKernels()} names (float32 sums in a fixed order, which is
 * not a BLAS's order: results agree with one to float32 rounding).
 *
 * <p>Addresses are host memory (JavaCPP pointers, direct buffers, libtorch CPU data pointers);
 * this class needs no libtorch.
 */
public final class SmallLinear {
    /** The row count up to which this kernel beats OpenBLAS's packed GEMM on the machines measured. */
    public static final int MAX_EFFICIENT_ROWS = 16;

    private SmallLinear() {}

    /**
     * Writes {@code y[r][o] = sum_i x[r][i] · weight[o][i] (+ bias[o])}.
     *
     * @param x          address of {@code rows} rows of {@code inFeatures} floats, {@code xRowStride} floats apart
     * @param weight     address of {@code [outFeatures, inFeatures]} floats, contiguous
     * @param bias       address of {@code outFeatures} floats, or 0 for none
     * @param y          address of {@code [rows, outFeatures]} floats, contiguous, overlapping none of the inputs
     * @param numThreads threads splitting the output columns (0 = all cores)
     */
    public static void apply(long rows, long inFeatures, long outFeatures, long x, long xRowStride, long weight,
                             long bias, long y, int numThreads) {
        apply(rows, inFeatures, outFeatures, x, xRowStride, ElementType.FLOAT32, weight, bias, y, numThreads);
    }

    /**
     * The same with the weight in {@code weightType}: {@link ElementType#FLOAT32}, or
     * {@link ElementType#BFLOAT16}, widened exactly to float32 as it is read (half the bytes of a
     * decode step's weight stream; the products and sums stay float32, so the only error against
     * float32 weights is the weights' own rounding to bf16). x, bias and y are float32 either way.
     */
    public static void apply(long rows, long inFeatures, long outFeatures, long x, long xRowStride, ElementType weightType,
                             long weight, long bias, long y, int numThreads) {
        if (weightType != ElementType.FLOAT32 && weightType != ElementType.BFLOAT16)
            throw new IllegalArgumentException("weightType must be FLOAT32 or BFLOAT16, got " + weightType);
        if (rows < 1) throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        if (inFeatures < 1) throw new IllegalArgumentException("inFeatures must be at least 1, got " + inFeatures);
        if (outFeatures < 1) throw new IllegalArgumentException("outFeatures must be at least 1, got " + outFeatures);
        if (xRowStride < inFeatures)
            throw new IllegalArgumentException("xRowStride (" + xRowStride + ") is less than inFeatures (" + inFeatures + ")");
        if (x == 0) throw new IllegalArgumentException("x address is 0");
        if (weight == 0) throw new IllegalArgumentException("weight address is 0");
        if (y == 0) throw new IllegalArgumentException("y address is 0");
        if (numThreads < 0 || numThreads > 1024)
            throw new IllegalArgumentException("numThreads must be in [0, 1024], got " + numThreads);
        NativeLibrary.ensureLoaded();
        NativeLibrary.check(DnoNative.dno_small_linear_cpu(rows, inFeatures, outFeatures, x, xRowStride,
                weightType.nativeCode(), weight, bias, y, numThreads));
    }
}
