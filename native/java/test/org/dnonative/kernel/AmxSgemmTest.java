package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * dno_amx_sgemm (the CBLAS-shaped AMX GEMM that the fused loss can take instead of OpenBLAS)
 * against a float64 C = alpha op(A) op(B) + beta C: both storage orders, the four transpose
 * combinations, alpha / beta that take and skip the direct store, leading dimensions with
 * padding, odd sizes. Random normal inputs from a seed per case that a failure prints. Bound per
 * element: |alpha| 2^-15 sum_k |a b| (the bf16x3 products, as AmxLinearTest) plus a few float32
 * roundings of |alpha ab| + |beta c|.
 */
class AmxSgemmTest {
    static final int ROW = 101, COL = 102, N = 111, T = 112;

    record Case(int order, int ta, int tb, int m, int n, int k, float alpha, float beta, int pad, long seed) {
        @Override
        public String toString() {
            return (order == ROW ? "row" : "col") + " " + (ta == T ? "T" : "N") + (tb == T ? "T" : "N") + " m=" + m
                    + " n=" + n + " k=" + k + " alpha=" + alpha + " beta=" + beta + " pad=" + pad + " seed=" + seed;
        }

        // storage: rows x cols of each operand as stored, in the case's order
        int aRows() { return (order == ROW) == (ta == N) ? m : k; }
        int aCols() { return (order == ROW) == (ta == N) ? k : m; }
        int bRows() { return (order == ROW) == (tb == N) ? k : n; }
        int bCols() { return (order == ROW) == (tb == N) ? n : k; }
        int cRows() { return order == ROW ? m : n; }
        int cCols() { return order == ROW ? n : m; }
        int lda() { return aCols() + pad; }
        int ldb() { return bCols() + pad; }
        int ldc() { return cCols() + pad; }

        double a(float[] a, int i, int l) {   // op(A)[i][l]
            boolean stored = (order == ROW) == (ta == N);   // op(A) laid out [m, k] in rows of lda
            return stored ? a[i * lda() + l] : a[l * lda() + i];
        }

        double b(float[] b, int l, int j) {   // op(B)[l][j]
            boolean stored = (order == ROW) == (tb == N);
            return stored ? b[l * ldb() + j] : b[j * ldb() + l];
        }

        int c(int i, int j) { return order == ROW ? i * ldc() + j : j * ldc() + i; }
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        // the last two pack op(B) into more than 2 MiB, so the row-major calls stream it in pieces
        // (a 1100-column op(B) over 5 chunks; 2600-deep, 6 pieces of k with a partial last one)
        int[][] shapes = {{1, 1, 1}, {17, 33, 5}, {40, 300, 77}, {128, 96, 513}, {1031, 64, 37}, {5, 1100, 517}, {7, 300, 2600}};
        float[][] scalars = {{1f, 0f}, {1f, 1f}, {-0.7f, 0.3f}};
        for (int order : new int[] {ROW, COL})
            for (int ta : new int[] {N, T})
                for (int tb : new int[] {N, T})
                    for (int[] s : shapes)
                        for (float[] ab : scalars)
                            for (int pad : new int[] {0, 3}) {
                                Object[] key = {order, ta, tb, s[0], s[1], s[2], ab[0], ab[1], pad};
                                all.add(Arguments.of(new Case(order, ta, tb, s[0], s[1], s[2], ab[0], ab[1], pad,
                                        CaseSeed.of("AmxSgemmTest", key))));
                            }
        return all.stream();
    }

    static float[] run(Case c, float[] a, float[] b, float[] c0, int threads) {
        try (FloatPointer pa = new FloatPointer(a); FloatPointer pb = new FloatPointer(b);
             FloatPointer pc = new FloatPointer(c0)) {
            DnoNative.dno_amx_sgemm_set_threads(threads);
            DnoNative.dno_amx_sgemm(c.order, c.ta, c.tb, c.m, c.n, c.k, c.alpha, pa.address(), c.lda(), pb.address(),
                    c.ldb(), c.beta, pc.address(), c.ldc());
            NativeLibrary.check(DnoNative.dno_amx_sgemm_take_error());
            float[] out = new float[c0.length];
            pc.get(out);
            return out;
        }
    }

    /** {@link AmxLinear#gemm}: the same product with its own thread count (row-major only). */
    static float[] runJava(Case c, float[] a, float[] b, float[] c0, int threads) {
        try (FloatPointer pa = new FloatPointer(a); FloatPointer pb = new FloatPointer(b);
             FloatPointer pc = new FloatPointer(c0)) {
            AmxLinear.gemm(c.ta == T, c.tb == T, c.m, c.n, c.k, c.alpha, pa.address(), c.lda(), pb.address(), c.ldb(),
                    c.beta, pc.address(), c.ldc(), threads);
            float[] out = new float[c0.length];
            pc.get(out);
            return out;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesAFloat64Gemm(Case c) {
        check(c, false);
    }

    static Stream<Arguments> rowMajorCases() {
        return cases().filter(a -> ((Case) a.get()[0]).order == ROW);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rowMajorCases")
    void theGemmWithItsOwnThreadCountMatchesAFloat64GemmToo(Case c) {
        check(c, true);
    }

    private static void check(Case c, boolean java) {
        assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] a = SmallLinearTest.normal(r, (c.aRows() - 1) * c.lda() + c.aCols(), 1.0);
        float[] b = SmallLinearTest.normal(r, (c.bRows() - 1) * c.ldb() + c.bCols(), 1.0 / Math.sqrt(c.k));
        float[] c0 = SmallLinearTest.normal(r, (c.cRows() - 1) * c.ldc() + c.cCols(), 1.0);
        float[] got = java ? runJava(c, a, b, c0, 1) : run(c, a, b, c0, 1);
        for (int i = 0; i < c.m; i++)
            for (int j = 0; j < c.n; j++) {
                double dot = 0, mag = 0;
                for (int l = 0; l < c.k; l++) {
                    double p = c.a(a, i, l) * c.b(b, l, j);
                    dot += p;
                    mag += Math.abs(p);
                }
                double before = c0[c.c(i, j)];
                double want = c.alpha * dot + c.beta * before;
                double size = Math.abs(c.alpha * dot) + Math.abs(c.beta * before);
                double bound = Math.abs(c.alpha) * Math.scalb(mag, -15) + 4 * Math.ulp((float) size) + 1e-30;
                double err = Math.abs(got[c.c(i, j)] - want);
                if (!(err <= bound))
                    throw new AssertionError(c + ": C[" + i + "][" + j + "] = " + got[c.c(i, j)] + ", float64 " + want
                            + ", error " + err + " > bound " + bound);
            }
        // padding between rows of C is not written
        for (int row = 0; row < c.cRows(); row++)
            for (int col = c.cCols(); col < c.ldc() && row * c.ldc() + col < c0.length; col++)
                assertEquals(c0[row * c.ldc() + col], got[row * c.ldc() + col], c + ": padding of C at row " + row + " changed");
    }

    /** A, B and C of case c from its seed: normal, B scaled by 0.1. */
    static float[][] operands(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] a = SmallLinearTest.normal(r, c.aRows() * c.lda(), 1.0), b = SmallLinearTest.normal(r, c.bRows() * c.ldb(), 0.1);
        return new float[][] {a, b, SmallLinearTest.normal(r, c.cRows() * c.ldc(), 1.0)};
    }

    @Test
    void everyThreadCountGivesTheSameBits() {
        assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        Case c = new Case(ROW, T, N, 700, 300, 129, 1f, 1f, 0, CaseSeed.of("AmxSgemmTest.threads", 700, 300, 129));
        float[][] o = operands(c);
        float[] one = run(c, o[0], o[1], o[2], 1);
        for (int t : new int[] {2, 3, 0}) assertArrayEquals(one, run(c, o[0], o[1], o[2], t), c + " threads=" + t);
        DnoNative.dno_amx_sgemm_set_threads(0);
        for (int t : new int[] {1, 2, 3, 0}) assertArrayEquals(one, runJava(c, o[0], o[1], o[2], t), c + " AmxLinear.gemm threads=" + t);
        // op(B) streamed in pieces (5 column chunks, 3 pieces of k): the same bits too
        Case s = new Case(ROW, N, N, 70, 1200, 1100, 1f, 0f, 0, CaseSeed.of("AmxSgemmTest.threads", 70, 1200, 1100));
        float[][] so = operands(s);
        float[] streamed = runJava(s, so[0], so[1], so[2], 1);
        for (int t : new int[] {2, 3, 0}) assertArrayEquals(streamed, runJava(s, so[0], so[1], so[2], t), s + " threads=" + t);
    }

    @Test
    void theJavaGemmNamesTheArgumentItRefuses() {
        try (FloatPointer p = new FloatPointer(64)) {
            long x = p.address();
            String lda = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> AmxLinear.gemm(false, false, 4, 4, 8, 1f, x, 7, x, 4, 0f, x, 4, 1)).getMessage();
            assertTrue(lda.contains("lda (7)"), lda);
            String ldc = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> AmxLinear.gemm(false, true, 4, 5, 8, 1f, x, 8, x, 8, 0f, x, 4, 1)).getMessage();
            assertTrue(ldc.contains("ldc (4)"), ldc);
            String c = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> AmxLinear.gemm(false, false, 2, 2, 2, 1f, x, 2, x, 2, 0f, 0, 2, 1)).getMessage();
            assertTrue(c.contains("c address"), c);
            String alpha = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> AmxLinear.gemm(false, false, 2, 2, 2, Float.NaN, x, 2, x, 2, 0f, x, 2, 1)).getMessage();
            assertTrue(alpha.contains("alpha"), alpha);
            if (!AmxLinear.available()) {
                DnoException e = org.junit.jupiter.api.Assertions.assertThrows(DnoException.class,
                        () -> AmxLinear.gemm(false, false, 2, 2, 2, 1f, x, 2, x, 2, 0f, x, 2, 1));
                assertEquals(DnoException.Status.UNSUPPORTED, e.status());
            }
        }
    }

    @Test
    void aFailedCallIsReportedAndLeavesNaNNotGarbage() {
        // an invalid transpose code: CBLAS's signature has no status, so the call records one
        try (FloatPointer a = new FloatPointer(4); FloatPointer b = new FloatPointer(4); FloatPointer c = new FloatPointer(4)) {
            DnoNative.dno_amx_sgemm(ROW, 7, N, 2, 2, 2, 1f, a.address(), 2, b.address(), 2, 0f, c.address(), 2);
            DnoException e = org.junit.jupiter.api.Assertions.assertThrows(DnoException.class,
                    () -> NativeLibrary.check(DnoNative.dno_amx_sgemm_take_error()));
            assertEquals(DnoException.Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("dno_amx_sgemm"), e.getMessage());
            for (int i = 0; i < 4; i++) assertTrue(Float.isNaN(c.get(i)), "C[" + i + "] = " + c.get(i));
            assertEquals(0, DnoNative.dno_amx_sgemm_take_error(), "the error is taken once");
        }
        if (!AmxLinear.available()) {   // where AMX is absent every call is refused with the reason
            try (FloatPointer a = new FloatPointer(4); FloatPointer b = new FloatPointer(4); FloatPointer c = new FloatPointer(4)) {
                DnoNative.dno_amx_sgemm(ROW, N, N, 2, 2, 2, 1f, a.address(), 2, b.address(), 2, 0f, c.address(), 2);
                DnoException e = org.junit.jupiter.api.Assertions.assertThrows(DnoException.class,
                        () -> NativeLibrary.check(DnoNative.dno_amx_sgemm_take_error()));
                assertEquals(DnoException.Status.UNSUPPORTED, e.status());
            }
        }
    }
}
