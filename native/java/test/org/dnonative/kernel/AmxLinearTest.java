package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link AmxLinear} against a float64 reference on odd shapes: row and column counts around the
 * 32 x 32 blocks and the 256 x 256 work blocks, depths that are not multiples of the 32-deep
 * tiles, row strides with padding. Random normal inputs from a seed per case that a failure prints.
 *
 * <p>The bound: each output may differ from the float64 product by at most 2^-15 of
 * sum_k |x_k w_k| (plus the bias's float32 rounding). bf16x3 keeps 16 mantissa bits of every
 * input, so its error is about 2^-17 of that sum; a kernel that dropped one of its three products
 * (leaving 8 bits of one side) would miss the bound by about 2^7. On machines without AMX the
 * numeric cases are skipped and the refusal is checked instead.
 */
class AmxLinearTest {
    record Case(int rows, int in, int out, int stride, boolean bias, long seed) {
        @Override
        public String toString() {
            return "rows=" + rows + " in=" + in + " out=" + out + " stride=" + stride + " bias=" + bias + " seed=" + seed;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {17, 31, 15}, {32, 32, 32}, {33, 33, 33}, {31, 100, 65}, {64, 512, 96},
                {70, 77, 300}, {257, 64, 257}, {300, 130, 31}, {5, 1376, 40}, {40, 512, 1376}};
        for (int[] s : shapes)
            for (boolean bias : new boolean[] {false, true})
                for (int pad : new int[] {0, 5}) {
                    Object[] key = {s[0], s[1], s[2], bias, pad};
                    all.add(Arguments.of(new Case(s[0], s[1], s[2], s[1] + pad, bias, CaseSeed.of("AmxLinearTest", key))));
                }
        return all.stream();
    }

    static float[] run(Case c, float[] x, float[] w, float[] b, int threads) {
        long bytes = AmxLinear.packedBytes(c.out, c.in);
        try (FloatPointer px = new FloatPointer(x); FloatPointer pw = new FloatPointer(w);
             FloatPointer pb = b == null ? null : new FloatPointer(b);
             BytePointer packed = new BytePointer(bytes);
             FloatPointer py = new FloatPointer((long) c.rows * c.out)) {
            AmxLinear.pack(c.out, c.in, pw.address(), c.in, packed.address(), threads);
            AmxLinear.apply(c.rows, c.in, c.out, px.address(), c.stride, packed.address(), pb == null ? 0 : pb.address(),
                    py.address(), threads);
            float[] y = new float[c.rows * c.out];
            py.get(y);
            return y;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesAFloat64ReferenceToAboutFloat32(Case c) {
        assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] x = SmallLinearTest.normal(r, (c.rows - 1) * c.stride + c.in, 1.0);
        float[] w = SmallLinearTest.normal(r, c.out * c.in, 1.0 / Math.sqrt(c.in));
        float[] b = c.bias ? SmallLinearTest.normal(r, c.out, 1.0) : null;
        float[] y = run(c, x, w, b, 1);
        double worst = 0;
        for (int i = 0; i < c.rows; i++)
            for (int o = 0; o < c.out; o++) {
                double want = 0, mag = 0;
                for (int k = 0; k < c.in; k++) {
                    double p = (double) x[i * c.stride + k] * w[o * c.in + k];
                    want += p;
                    mag += Math.abs(p);
                }
                double bias = c.bias ? b[o] : 0;
                double err = Math.abs(y[i * c.out + o] - (want + bias));
                double bound = Math.scalb(mag, -15) + Math.ulp((float) (want + bias)) + 1e-30;
                worst = Math.max(worst, err / bound);
                if (err > bound)
                    throw new AssertionError(c + ": y[" + i + "][" + o + "] = " + y[i * c.out + o] + ", float64 "
                            + (want + bias) + ", error " + err + " > bound " + bound);
            }
        assertTrue(worst <= 1, c + ": worst error/bound " + worst);
    }

    @Test
    void keepsMoreThanBf16Precision() {
        // the same product through a single bf16 rounding of both inputs misses the bound above by far;
        // this kernel's error is at least 2^5 below what one bf16 product gives here
        assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        Case c = new Case(64, 512, 64, 512, false, CaseSeed.of("AmxLinearTest.bf16", 1));
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] x = SmallLinearTest.normal(r, c.rows * c.in, 1.0), w = SmallLinearTest.normal(r, c.out * c.in, 0.05);
        float[] y = run(c, x, w, null, 1);
        double amx = 0, bf16 = 0;
        for (int i = 0; i < c.rows; i++)
            for (int o = 0; o < c.out; o++) {
                double want = 0, rounded = 0;
                for (int k = 0; k < c.in; k++) {
                    want += (double) x[i * c.in + k] * w[o * c.in + k];
                    rounded += (double) Half.bf16ToFloat(Half.floatToBf16(x[i * c.in + k])) * Half.bf16ToFloat(Half.floatToBf16(w[o * c.in + k]));
                }
                amx = Math.max(amx, Math.abs(y[i * c.out + o] - want));
                bf16 = Math.max(bf16, Math.abs(rounded - want));
            }
        assertTrue(amx * 32 < bf16, c + ": max error " + amx + " is not 32x below one bf16 product's " + bf16);
    }

    @Test
    void everyThreadCountGivesTheSameBits() {
        assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        Case c = new Case(600, 200, 700, 203, true, CaseSeed.of("AmxLinearTest.threads", 600, 200, 700));
        SplittableRandom r = new SplittableRandom(c.seed);
        float[] x = SmallLinearTest.normal(r, (c.rows - 1) * c.stride + c.in, 1.0);
        float[] w = SmallLinearTest.normal(r, c.out * c.in, 0.1);
        float[] b = SmallLinearTest.normal(r, c.out, 1.0);
        float[] one = run(c, x, w, b, 1);
        for (int t : new int[] {2, 3, 0}) assertArrayEquals(one, run(c, x, w, b, t), c + " threads=" + t);
        assertArrayEquals(one, run(c, x, w, b, 1), c + ": a second run");
    }

    @Test
    void refusesBadArgumentsByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AmxLinear.apply(0, 4, 4, 1, 4, 1, 0, 1, 1));
        assertTrue(e.getMessage().contains("rows"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AmxLinear.apply(1, 4, 4, 1, 3, 1, 0, 1, 1));
        assertTrue(e.getMessage().contains("xRowStride"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AmxLinear.apply(1, 4, 4, 1, 4, 0, 0, 1, 1));
        assertTrue(e.getMessage().contains("packed"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AmxLinear.pack(4, 0, 1, 4, 1, 1));
        assertTrue(e.getMessage().contains("inFeatures"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AmxLinear.packedBytes(-1, 4));
        assertTrue(e.getMessage().contains("outFeatures"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AmxLinear.pack(4, 4, 1, 4, 1, -2));
        assertTrue(e.getMessage().contains("numThreads"), e.getMessage());
    }

    @Test
    void whereItCannotRunItSaysWhy() {
        if (AmxLinear.available()) {
            assertEquals("", AmxLinear.whyNotAvailable());
            return;
        }
        assertFalse(AmxLinear.whyNotAvailable().isEmpty());
        try (FloatPointer w = new FloatPointer(16); BytePointer packed = new BytePointer(AmxLinear.packedBytes(4, 4))) {
            DnoException e = assertThrows(DnoException.class, () -> AmxLinear.pack(4, 4, w.address(), 4, packed.address(), 1));
            assertEquals(DnoException.Status.UNSUPPORTED, e.status());
            assertTrue(e.getMessage().contains(AmxLinear.whyNotAvailable()), e.getMessage());
        }
    }
}
