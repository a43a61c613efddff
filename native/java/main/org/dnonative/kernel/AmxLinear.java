package org.dnonative.kernel;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * {@code y = x · Wᵀ (+ bias)} for many rows on Intel AMX tiles, accurate to about float32: the
 * prefill and scoring forward, where a float32 GEMM is bound by the core's FMA units.
 *
 * <p>How it stays accurate: each float32 input is split into two bf16 parts, {@code hi = bf16(v)}
 * and {@code lo = bf16(v - hi)}, and the product is {@code x_hi·W_hi + x_hi·W_lo + x_lo·W_hi},
 * three bf16 tile products accumulated in float32. That keeps 16 mantissa bits of every input (a
 * single bf16 product keeps 8): the error against float64 is about 5e-6 of the largest output,
 * against about 5e-7 for a float32 BLAS (AmxLinearTest bounds it on random products of odd shapes).
 *
 * <p>The weight is packed once into the kernel's tile layout ({@link #pack}) and reused for every
 * product until the weight changes; the caller owns both buffers. Deterministic: bitwise the same
 * result for every thread count and run on a machine.
 *
 * <p>Only where {@link #available()}: a CPU with AMX-BF16 (Intel Xeon since Sapphire Rapids), an
 * operating system that grants the tile state, and neither {@code DNO_CPU_KERNELS} pinning an
 * older build nor {@code DNO_AMX=off}. Elsewhere every call throws {@link DnoException} with status
 * {@code UNSUPPORTED} and the reason. Addresses are host memory; this class needs no libtorch.
 */
public final class AmxLinear {
    private static volatile Boolean available;
    private static volatile String whyNot = "";

    private AmxLinear() {}

    /** Whether the kernel runs on this machine (decided once per process). */
    public static boolean available() {
        Boolean a = available;
        if (a == null) {
            NativeLibrary.ensureLoaded();
            try (PointerPointer<BytePointer> why = new PointerPointer<>(1)) {
                a = DnoNative.dno_amx_available(why) == 1;
                whyNot = a ? "" : why.getString(0);
            }
            available = a;
        }
        return a;
    }

    /** Why {@link #available()} is false ("" when it is true). */
    public static String whyNotAvailable() {
        available();
        return whyNot;
    }

    /** The bytes a packed {@code [outFeatures, inFeatures]} weight takes. */
    public static long packedBytes(long outFeatures, long inFeatures) {
        checkSizes(outFeatures, inFeatures);
        NativeLibrary.ensureLoaded();
        return DnoNative.dno_amx_packed_weight_bytes(outFeatures, inFeatures);
    }

    /**
     * Packs {@code weight [outFeatures, inFeatures]} (row-major, rows {@code wRowStride} floats
     * apart) into {@code packed}, which must hold {@link #packedBytes} bytes.
     */
    public static void pack(long outFeatures, long inFeatures, long weight, long wRowStride, long packed, int numThreads) {
        checkSizes(outFeatures, inFeatures);
        if (wRowStride < inFeatures)
            throw new IllegalArgumentException("wRowStride (" + wRowStride + ") is less than inFeatures (" + inFeatures + ")");
        if (weight == 0) throw new IllegalArgumentException("weight address is 0");
        if (packed == 0) throw new IllegalArgumentException("packed address is 0");
        checkThreads(numThreads);
        NativeLibrary.ensureLoaded();
        NativeLibrary.check(DnoNative.dno_amx_pack_weight(outFeatures, inFeatures, weight, wRowStride, packed, numThreads));
    }

    /**
     * Writes {@code y[r][o] = sum_i x[r][i] · weight[o][i] (+ bias[o])} from the packed weight.
     *
     * @param x          address of {@code rows} rows of {@code inFeatures} floats, {@code xRowStride} floats apart
     * @param packed     the weight as {@link #pack} wrote it, for these {@code outFeatures, inFeatures}
     * @param bias       address of {@code outFeatures} floats, or 0 for none
     * @param y          address of {@code [rows, outFeatures]} floats, contiguous, overlapping none of the inputs
     * @param numThreads threads splitting the work (0 = all cores)
     */
    public static void apply(long rows, long inFeatures, long outFeatures, long x, long xRowStride, long packed,
                             long bias, long y, int numThreads) {
        if (rows < 1) throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        checkSizes(outFeatures, inFeatures);
        if (xRowStride < inFeatures)
            throw new IllegalArgumentException("xRowStride (" + xRowStride + ") is less than inFeatures (" + inFeatures + ")");
        if (x == 0) throw new IllegalArgumentException("x address is 0");
        if (packed == 0) throw new IllegalArgumentException("packed address is 0");
        if (y == 0) throw new IllegalArgumentException("y address is 0");
        checkThreads(numThreads);
        NativeLibrary.ensureLoaded();
        NativeLibrary.check(DnoNative.dno_amx_linear(rows, inFeatures, outFeatures, x, xRowStride, packed, bias, y, numThreads));
    }

    /**
     * {@code C = alpha · op(A) · op(B) + beta · C}, row-major, on the same bf16x3 tiles (about
     * float32 accuracy; op(B) is packed on every call): cblas_sgemm's meaning for
     * {@code CblasRowMajor}, with its own thread count. For products whose operands change every
     * call, the backward of a linear layer above all: {@code dX = dY · W} ({@code transB = false})
     * and {@code dW (+)= dYᵀ · X} ({@code transA = true}).
     *
     * @param transA     A is {@code [k, m]} (true) or {@code [m, k]} (false), rows {@code lda} floats apart
     * @param transB     B is {@code [n, k]} (true) or {@code [k, n]} (false), rows {@code ldb} floats apart
     * @param c          {@code [m, n]}, rows {@code ldc} floats apart; read only when {@code beta != 0}
     * @param numThreads threads splitting the work (0 = all cores); bitwise the same result for every count
     */
    public static void gemm(boolean transA, boolean transB, long m, long n, long k, float alpha, long a, long lda,
                            long b, long ldb, float beta, long c, long ldc, int numThreads) {
        if (m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("m, n and k must be >= 0, got " + m + ", " + n + ", " + k);
        if (m > Integer.MAX_VALUE || n > Integer.MAX_VALUE || k > Integer.MAX_VALUE)
            throw new IllegalArgumentException("m, n and k must be below 2^31, got " + m + ", " + n + ", " + k);
        if (lda < Math.max(1, transA ? m : k))
            throw new IllegalArgumentException("lda (" + lda + ") is less than A's row length (" + (transA ? m : k) + ")");
        if (ldb < Math.max(1, transB ? k : n))
            throw new IllegalArgumentException("ldb (" + ldb + ") is less than B's row length (" + (transB ? k : n) + ")");
        if (ldc < Math.max(1, n)) throw new IllegalArgumentException("ldc (" + ldc + ") is less than n (" + n + ")");
        if (m > 0 && n > 0 && c == 0) throw new IllegalArgumentException("c address is 0");
        if (m > 0 && n > 0 && k > 0 && (a == 0 || b == 0)) throw new IllegalArgumentException("a or b address is 0");
        if (!Float.isFinite(alpha) || !Float.isFinite(beta))
            throw new IllegalArgumentException("alpha and beta must be finite, got " + alpha + ", " + beta);
        checkThreads(numThreads);
        NativeLibrary.ensureLoaded();
        NativeLibrary.check(DnoNative.dno_amx_gemm(transA ? 112 : 111, transB ? 112 : 111, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc, numThreads));
    }

    private static void checkSizes(long outFeatures, long inFeatures) {
        if (outFeatures < 1) throw new IllegalArgumentException("outFeatures must be at least 1, got " + outFeatures);
        if (inFeatures < 1) throw new IllegalArgumentException("inFeatures must be at least 1, got " + inFeatures);
    }

    private static void checkThreads(int numThreads) {
        if (numThreads < 0 || numThreads > 1024)
            throw new IllegalArgumentException("numThreads must be in [0, 1024], got " + numThreads);
    }
}
