package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * {@link SmallLinear} against a float64 reference on odd shapes: row counts around the kernel's
 * row blocks (1-4 per block by ISA), input sizes that are not multiples of any vector width, and
 * output sizes around the column blocks (2-4) and the 64-column thread split. Random normal inputs
 * from a seed per case that a failure prints. The CI runs this class under every CPU kernel
 * build (DNO_CPU_KERNELS=baseline, avx2 and the default).
 */
class SmallLinearTest {
    record Case(int rows, int in, int out, int stride, boolean bias, long seed) {
        @Override
        public String toString() {
            return "rows=" + rows + " in=" + in + " out=" + out + " stride=" + stride + " bias=" + bias + " seed=" + seed;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {1, 512, 33}, {3, 77, 5}, {4, 16, 4}, {5, 17, 65}, {8, 512, 1376},
                {8, 1376, 127}, {13, 31, 130}, {16, 64, 64}, {17, 100, 9}, {33, 48, 70}, {2, 1000, 3}};
        for (int[] s : shapes)
            for (boolean bias : new boolean[] {false, true})
                for (int pad : new int[] {0, 3}) {
                    Object[] key = {s[0], s[1], s[2], bias, pad};
                    all.add(Arguments.of(new Case(s[0], s[1], s[2], s[1] + pad, bias, CaseSeed.of("SmallLinearTest", key))));
                }
        return all.stream();
    }

    static float[] normal(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller from the seeded stream: never zeros, both signs, a few large values
            double u = 1 - r.nextDouble(), v = r.nextDouble();
            a[i] = (float) (scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return a;
    }

    static float[] run(Case c, float[] x, float[] w, float[] b, int threads) {
        try (FloatPointer px = new FloatPointer(x); FloatPointer pw = new FloatPointer(w);
             FloatPointer pb = b == null ? null : new FloatPointer(b);
             FloatPointer py = new FloatPointer((long) c.rows * c.out)) {
            SmallLinear.apply(c.rows, c.in, c.out, px.address(), c.stride, pw.address(), pb == null ? 0 : pb.address(),
                    py.address(), threads);
            float[] y = new float[c.rows * c.out];
            py.get(y);
            return y;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesAFloat64Reference(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] x = normal(r, (c.rows - 1) * c.stride + c.in, 1.0);
        float[] w = normal(r, c.out * c.in, 1.0 / Math.sqrt(c.in));
        float[] b = c.bias ? normal(r, c.out, 1.0) : null;
        float[] y = run(c, x, w, b, 1);
        for (int i = 0; i < c.rows; i++)
            for (int o = 0; o < c.out; o++) {
                double want = c.bias ? b[o] : 0, mag = Math.abs(want);
                for (int k = 0; k < c.in; k++) {
                    double p = (double) x[i * c.stride + k] * w[o * c.in + k];
                    want += p;
                    mag += Math.abs(p);
                }
                // float32 sums of `in` terms: a few ulps of the sum of magnitudes, times sqrt(in)
                double tol = 4 * Math.ulp(1f) * mag * Math.sqrt(c.in) + 1e-30;
                double got = y[i * c.out + o];
                assertTrue(Math.abs(got - want) <= tol,
                        c + ": y[" + i + "][" + o + "] = " + got + ", float64 reference " + want + " (tolerance " + tol + ")");
            }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theResultIsBitwiseTheSameForEveryThreadCount(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed ^ 1);
        float[] x = normal(r, (c.rows - 1) * c.stride + c.in, 1.0);
        float[] w = normal(r, c.out * c.in, 1.0);
        float[] b = c.bias ? normal(r, c.out, 1.0) : null;
        float[] one = run(c, x, w, b, 1);
        for (int threads : new int[] {2, 3, 0})
            assertArrayEquals(one, run(c, x, w, b, threads), c + " with " + threads + " threads");
    }

    /** float32 -> bf16 bits, round to nearest even (finite inputs). */
    static short toBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
    }

    static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /**
     * bf16 weights are widened exactly, and the products and sums are those of the float32 path:
     * the result is bitwise the float32 kernel's on the widened weights (so the float64 test above
     * covers its accuracy), for every thread count.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bf16WeightsGiveBitwiseTheFloat32KernelOnTheWidenedWeights(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed ^ 2);
        float[] x = normal(r, (c.rows - 1) * c.stride + c.in, 1.0);
        float[] w = normal(r, c.out * c.in, 1.0 / Math.sqrt(c.in));
        float[] b = c.bias ? normal(r, c.out, 1.0) : null;
        short[] h = new short[w.length];
        float[] widened = new float[w.length];
        for (int i = 0; i < w.length; i++) { h[i] = toBf16(w[i]); widened[i] = fromBf16(h[i]); }
        float[] want = run(c, x, widened, b, 1);
        for (int threads : new int[] {1, 2, 0})
            try (FloatPointer px = new FloatPointer(x); org.bytedeco.javacpp.ShortPointer pw = new org.bytedeco.javacpp.ShortPointer(h);
                 FloatPointer pb = b == null ? null : new FloatPointer(b); FloatPointer py = new FloatPointer((long) c.rows * c.out)) {
                SmallLinear.apply(c.rows, c.in, c.out, px.address(), c.stride, ElementType.BFLOAT16, pw.address(),
                        pb == null ? 0 : pb.address(), py.address(), threads);
                float[] y = new float[c.rows * c.out];
                py.get(y);
                assertArrayEquals(want, y, c + " bf16 weights, " + threads + " threads");
            }
    }

    /**
     * From 8 rows on the kernel uses 8-row blocks, below 8 rows 4-row blocks (AVX-512; 8 and 4 x 2
     * under AVX2): the block shape must change no bit, so 8, 13 and 16 rows equal the same rows
     * computed 4 (or fewer) at a time.
     */
    @ParameterizedTest(name = "rows={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {8, 13, 16})
    void theBlockShapeChangesNoBit(int rows) {
        int in = 77, out = 131;
        long seed = CaseSeed.of("SmallLinearTest.blockShape", rows);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = normal(r, rows * in, 1.0), w = normal(r, out * in, 1.0 / Math.sqrt(in)), b = normal(r, out, 1.0);
        float[] all = run(new Case(rows, in, out, in, true, seed), x, w, b, 1);
        for (int from = 0; from < rows; from += 4) {
            int n = Math.min(4, rows - from);
            float[] part = run(new Case(n, in, out, in, true, seed), java.util.Arrays.copyOfRange(x, from * in, (from + n) * in), w, b, 1);
            assertArrayEquals(part, java.util.Arrays.copyOfRange(all, from * out, (from + n) * out), "rows " + from + ".." + (from + n) + " of " + rows + ", seed " + seed);
        }
    }

    /** Callers on several Java threads at once, each sharing the helper threads: every result as alone. */
    @Test
    void concurrentCallersWithHelpersGetTheirOwnResults() throws Exception {
        Case c = new Case(8, 96, 700, 96, true, CaseSeed.of("SmallLinearTest.concurrent"));
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] x = normal(r, c.rows * c.in, 1.0), w = normal(r, c.out * c.in, 1.0), b = normal(r, c.out, 1.0);
        float[] want = run(c, x, w, b, 1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<float[]>> got = new ArrayList<>();
            for (int i = 0; i < 200; i++) got.add(pool.submit(() -> run(c, x, w, b, 3)));
            for (java.util.concurrent.Future<float[]> f : got) assertArrayEquals(want, f.get(), c.toString());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badArgumentsAreExceptionsNamingTheArgument() {
        try (FloatPointer p = new FloatPointer(64)) {
            long a = p.address();
            assertEquals("rows must be at least 1, got 0",
                    assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(0, 4, 4, a, 4, a, 0, a, 1)).getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(1, -1, 4, a, 4, a, 0, a, 1))
                    .getMessage().startsWith("inFeatures"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(1, 4, 0, a, 4, a, 0, a, 1))
                    .getMessage().startsWith("outFeatures"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(2, 4, 4, a, 3, a, 0, a, 1))
                    .getMessage().startsWith("xRowStride (3)"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(1, 4, 4, 0, 4, a, 0, a, 1))
                    .getMessage().startsWith("x address"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(1, 4, 4, a, 4, 0, 0, a, 1))
                    .getMessage().startsWith("weight address"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(1, 4, 4, a, 4, a, 0, 0, 1))
                    .getMessage().startsWith("y address"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(1, 4, 4, a, 4, a, 0, a, -2))
                    .getMessage().startsWith("numThreads"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> SmallLinear.apply(1, 4, 4, a, 4, ElementType.FLOAT16, a, 0, a, 1))
                    .getMessage().startsWith("weightType"));
        }
    }
}
