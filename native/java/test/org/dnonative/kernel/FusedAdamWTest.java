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
 * {@link FusedAdamW} against a float64 AdamW (to float32 rounding), against the documented float32
 * sequence written in Java (bitwise: the claim that every build computes the same bits), across
 * thread counts (bitwise), and on bad input. Sizes around the 16-lane vectors and the 65536-element
 * thread blocks; random normal inputs (never zeros) from a seed per case that a failure prints. The
 * CI runs this class under every CPU kernel build (DNO_CPU_KERNELS=baseline, avx2, the default).
 */
class FusedAdamWTest {
    record Case(int n, boolean decay, float gradScale, long seed) {
        @Override
        public String toString() {
            return "n=" + n + " decay=" + decay + " gradScale=" + gradScale + " seed=" + seed;
        }
    }

    static final int STEPS = 3;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (int n : new int[] {1, 15, 17, 1000, 65535, 65537, 200003})
            for (boolean decay : new boolean[] {false, true})
                for (float scale : new float[] {1f, 0.37f})
                    all.add(Arguments.of(new Case(n, decay, scale, CaseSeed.of("FusedAdamWTest", new Object[] {n, decay, scale}))));
        return all.stream();
    }

    static FusedAdamW.Hyper hyper(int step) {
        return new FusedAdamW.Hyper(3e-3, 0.9, 0.999, 1e-8, 0.01, step);
    }

    /** State after STEPS native steps, each with fresh gradients drawn from r: {p, m, v}. */
    static float[][] nativeRun(Case c, float[] p0, float[][] grads, int threads) {
        try (FloatPointer p = new FloatPointer(p0); FloatPointer g = new FloatPointer(c.n);
             FloatPointer m = new FloatPointer(new float[c.n]); FloatPointer v = new FloatPointer(new float[c.n])) {
            for (int s = 0; s < STEPS; s++) {
                g.put(grads[s]);
                FusedAdamW.step(c.n, p.address(), g.address(), m.address(), v.address(), hyper(s + 1), c.decay,
                        c.gradScale, true, threads);
                float[] after = new float[c.n];
                g.get(after);
                for (float x : after) assertEquals(0f, x, "zeroGrad left a non-zero gradient, " + c);
            }
            float[][] out = {new float[c.n], new float[c.n], new float[c.n]};
            p.get(out[0]);
            m.get(out[1]);
            v.get(out[2]);
            return out;
        }
    }

    static float[][] inputs(Case c, float[] p0) {
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] p = SmallLinearTest.normal(r, c.n, 1.0);
        System.arraycopy(p, 0, p0, 0, c.n);
        float[][] grads = new float[STEPS][];
        for (int s = 0; s < STEPS; s++) grads[s] = SmallLinearTest.normal(r, c.n, 0.01 * (s + 1));
        return grads;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesAFloat64Reference(Case c) {
        float[] p0 = new float[c.n];
        float[][] grads = inputs(c, p0);
        float[][] got = nativeRun(c, p0, grads, 1);
        double[] p = new double[c.n], m = new double[c.n], v = new double[c.n], mAbs = new double[c.n];
        for (int i = 0; i < c.n; i++) p[i] = p0[i];
        for (int s = 0; s < STEPS; s++) {
            FusedAdamW.Hyper h = hyper(s + 1);
            for (int i = 0; i < c.n; i++) {
                double g = (double) grads[s][i] * c.gradScale;
                if (c.decay) p[i] *= 1 - h.lr() * h.weightDecay();
                m[i] = h.beta1() * m[i] + (1 - h.beta1()) * g;
                mAbs[i] = h.beta1() * mAbs[i] + (1 - h.beta1()) * Math.abs(g);   // m's terms cancel: its rounding scales with these
                v[i] = h.beta2() * v[i] + (1 - h.beta2()) * g * g;
                p[i] -= h.lr() / h.biasCorrection1() * m[i] / (Math.sqrt(v[i] / h.biasCorrection2()) + h.eps());
            }
        }
        double lr = hyper(1).lr();
        for (int i = 0; i < c.n; i++) {
            // a few float32 roundings of p (~1) and of an update of at most lr per step
            double tolP = 4 * Math.ulp((float) p[i]) + 1e-5 * lr * STEPS;
            assertTrue(Math.abs(got[0][i] - p[i]) <= tolP, c + ": param[" + i + "] " + got[0][i] + " vs float64 " + p[i]);
            assertTrue(Math.abs(got[1][i] - m[i]) <= 1e-6 * mAbs[i], c + ": exp_avg[" + i + "] " + got[1][i] + " vs " + m[i]);
            assertTrue(Math.abs(got[2][i] - v[i]) <= 1e-6 * v[i], c + ": exp_avg_sq[" + i + "] " + got[2][i] + " vs " + v[i]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isBitwiseTheDocumentedFloat32SequenceOnEveryThreadCount(Case c) {
        float[] p0 = new float[c.n];
        float[][] grads = inputs(c, p0);
        float[] p = p0.clone(), m = new float[c.n], v = new float[c.n];
        for (int s = 0; s < STEPS; s++) {
            FusedAdamW.Hyper h = hyper(s + 1);
            float decay = (float) (1 - h.lr() * h.weightDecay()), b1 = (float) h.beta1(), c1 = (float) (1 - h.beta1());
            float b2 = (float) h.beta2(), c2 = (float) (1 - h.beta2()), bc2 = (float) h.biasCorrection2();
            float eps = (float) h.eps(), step = (float) (-h.lr() / h.biasCorrection1());
            for (int i = 0; i < c.n; i++) {
                float g = grads[s][i] * c.gradScale;
                float pi = c.decay ? p[i] * decay : p[i];
                m[i] = Math.fma(g, c1, m[i] * b1);
                v[i] = Math.fma(c2 * g, g, v[i] * b2);
                float d = (float) Math.sqrt(v[i] / bc2) + eps;   // sqrt in double, rounded once: correctly rounded
                p[i] = pi + (step * m[i]) / d;
            }
        }
        for (int threads : new int[] {1, 2, 3, 0}) {
            float[][] got = nativeRun(c, p0, grads, threads);
            assertArrayEquals(p, got[0], c + ", " + threads + " threads: param");
            assertArrayEquals(m, got[1], c + ", " + threads + " threads: exp_avg");
            assertArrayEquals(v, got[2], c + ", " + threads + " threads: exp_avg_sq");
        }
    }

    @Test
    void squaredNormIsFloat64AndTheSameOnEveryThreadCount() {
        long seed = CaseSeed.of("FusedAdamWTest", new Object[] {"norm"});
        float[] g = SmallLinearTest.normal(new SplittableRandom(seed), 300007, 0.5);
        double want = 0;
        for (float x : g) want += (double) x * x;
        try (FloatPointer pg = new FloatPointer(g)) {
            double one = FusedAdamW.gradSquaredNorm(g.length, pg.address(), 1);
            assertEquals(want, one, 1e-12 * want, "seed " + seed);
            for (int threads : new int[] {2, 3, 0})
                assertEquals(one, FusedAdamW.gradSquaredNorm(g.length, pg.address(), threads), 0.0, "seed " + seed + ", " + threads + " threads");
        }
    }

    @Test
    void aNonFiniteGradientIsNamedByItsBlock() {
        float[] g = SmallLinearTest.normal(new SplittableRandom(5), 200000, 1.0);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] h = g.clone();
            h[131073] = bad;
            try (FloatPointer pg = new FloatPointer(h)) {
                DnoException e = assertThrows(DnoException.class, () -> FusedAdamW.gradSquaredNorm(h.length, pg.address(), 2));
                assertEquals(DnoException.Status.NONFINITE, e.status());
                assertTrue(e.getMessage().contains("[131072, 196608)"), e.getMessage());
            }
        }
    }

    @Test
    void badArgumentsAreRefusedByName() {
        try (FloatPointer a = new FloatPointer(4)) {
            long x = a.address();
            FusedAdamW.Hyper h = hyper(1);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new FusedAdamW.Hyper(-1, 0.9, 0.999, 1e-8, 0, 1)).getMessage().contains("lr"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new FusedAdamW.Hyper(1e-3, 1.0, 0.999, 1e-8, 0, 1)).getMessage().contains("beta1"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new FusedAdamW.Hyper(1e-3, 0.9, Double.NaN, 1e-8, 0, 1)).getMessage().contains("beta2"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new FusedAdamW.Hyper(1e-3, 0.9, 0.999, 0, 0, 1)).getMessage().contains("eps"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new FusedAdamW.Hyper(1e-3, 0.9, 0.999, 1e-8, -1, 1)).getMessage().contains("weightDecay"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new FusedAdamW.Hyper(1e-3, 0.9, 0.999, 1e-8, 0, 0)).getMessage().contains("step"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedAdamW.step(4, 0, x, x, x, h, true, 1f, true, 1)).getMessage().contains("param"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedAdamW.step(4, x, x, 0, x, h, true, 1f, true, 1)).getMessage().contains("expAvg"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedAdamW.step(4, x, x, x, x, h, true, Float.NaN, true, 1)).getMessage().contains("gradScale"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedAdamW.step(-1, x, x, x, x, h, true, 1f, true, 1)).getMessage().contains("n must"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedAdamW.gradSquaredNorm(4, x, -1)).getMessage().contains("numThreads"));
            // the native layer refuses on its own too (a caller that skips the Java checks)
            NativeLibrary.ensureLoaded();
            assertEquals(DnoException.Status.INVALID_ARGUMENT.ordinal(),
                    DnoNative.dno_adamw_cpu(4, x, x, x, x, 1e-3, 1.5, 0.999, 1e-8, 0, 1, 1, 1f, 0, 1));
            assertTrue(DnoNative.dno_last_error().getString().contains("beta1"));
        }
    }
}
