package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The CPU kernel against the float64 reference, on random inputs from a fixed seed per case. */
class DnoLossTest {

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {1, 3, 2}, {3, 47, 1031}, {2, 9, 33}, {4, 16, 4099}, {2, 5, 16}};
        for (ElementType dtype : new ElementType[] {ElementType.FLOAT32, ElementType.BFLOAT16, ElementType.FLOAT16})
            for (int[] s : shapes)
                for (boolean soft : new boolean[] {false, true})
                    for (boolean average : new boolean[] {false, true})
                        all.add(Arguments.of(s[0], s[1], s[2], dtype, soft, average));
        return all.stream();
    }

    @ParameterizedTest(name = "P={0} T={1} V={2} {3} soft={4} mean={5}")
    @MethodSource("cases")
    void matchesFloat64Reference(int p, int t, int v, ElementType dtype, boolean soft, boolean average) {
        RandomCase c = new RandomCase(p, t, v, dtype, soft, p > 1,
                CaseSeed.of("DnoLossTest.matchesFloat64Reference", p, t, v, dtype, soft, average));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withAverage(average).withGradScale(1.7f);
        ReferenceDnoLoss want = c.reference(0.5, average, 1.7);
        float[] grad = run(c, o);
        assertClose(c + " loss", want.loss, got(c, o).loss(), 2e-5, 2e-5);
        DnoLossResult r = got(c, o);
        for (int n = 0; n < r.logps().length; n++)
            assertClose(c + " logps[" + n + "]", want.logps[n], r.logps()[n], 1e-5, average ? 1e-5 : 2e-4);
        for (int i = 0; i < p; i++) {
            assertClose(c + " z[" + i + "]", want.z[i], r.z()[i], 1e-5, 5e-5);
            assertClose(c + " chosen[" + i + "]", want.chosenRewards[i], r.chosenRewards()[i], 1e-5, 5e-5);
            assertClose(c + " rejected[" + i + "]", want.rejectedRewards[i], r.rejectedRewards()[i], 1e-5, 5e-5);
        }
        assertGradClose(c, want.grad, grad);
    }

    /** Runs the kernel through the array API for the case's dtype and returns the gradient as float. */
    static float[] run(RandomCase c, DnoLossOptions o) {
        if (c.dtype == ElementType.FLOAT32) {
            float[] g = new float[c.logits.length];
            DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, c.targets, o, g);
            return g;
        }
        short[] g = new short[c.logits.length];
        DnoLoss.compute(c.shape, c.logitsHalf, c.dtype, c.labels, c.ref, c.targets, o, g);
        float[] f = new float[g.length];
        for (int i = 0; i < g.length; i++) f[i] = Half.from(c.dtype, g[i]);
        return f;
    }

    static DnoLossResult got(RandomCase c, DnoLossOptions o) {
        return c.dtype == ElementType.FLOAT32
                ? DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, c.targets, o, null)
                : DnoLoss.compute(c.shape, c.logitsHalf, c.dtype, c.labels, c.ref, c.targets, o, null);
    }

    static void assertClose(String what, double want, double got, double rtol, double atol) {
        if (!(Math.abs(got - want) <= atol + rtol * Math.abs(want)))
            fail(what + ": expected " + want + " got " + got + " (diff " + Math.abs(got - want) + ")");
    }

    /** Elementwise, with the output dtype's rounding as the relative tolerance. */
    static void assertGradClose(RandomCase c, double[] want, float[] got) {
        double max = 0;
        for (double w : want) max = Math.max(max, Math.abs(w));
        double rtol = switch (c.dtype) { case BFLOAT16 -> 8e-3; case FLOAT16 -> 1.5e-3; default -> 2e-5; };
        double atol = 1e-6 * max + (c.dtype == ElementType.FLOAT16 ? 6e-8 : 0);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) {
                if (bad++ < 5) first.append("\n  grad[").append(i).append("] expected ").append(want[i]).append(" got ").append(got[i]);
            }
            if (want[i] == 0 && got[i] != 0 && bad++ < 5) first.append("\n  grad[").append(i).append("] must be exactly 0");
        }
        if (bad > 0) fail(c + ": " + bad + " gradient mismatches of " + want.length + first);
    }

    @Test
    void ignoredPositionsGetExactlyZeroAndEmptySequenceHasZeroLogp() {
        RandomCase c = new RandomCase(3, 12, 50, ElementType.FLOAT32, false, true,
                CaseSeed.of("DnoLossTest.ignoredPositionsGetExactlyZero"));
        float[] g = new float[c.logits.length];
        DnoLossResult r = DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, null, DnoLossOptions.defaults(), g);
        int v = 50;
        for (int row = 0; row < c.labels.length; row++)
            if (c.labels[row] == RandomCase.IGNORE)
                for (int k = 0; k < v; k++) assertEquals(0f, g[row * v + k], c + ": grad of ignored row " + row);
        assertEquals(0f, r.logps()[5], c + ": logps of the sequence with no counted position");
    }

    @Test
    void inPlaceEqualsOutOfPlaceBitwiseForEveryDtype() {
        for (ElementType dtype : new ElementType[] {ElementType.FLOAT32, ElementType.BFLOAT16, ElementType.FLOAT16}) {
            RandomCase c = new RandomCase(2, 21, 517, dtype, true, false, CaseSeed.of("DnoLossTest.inPlace", dtype));
            DnoLossOptions o = DnoLossOptions.defaults();
            if (dtype == ElementType.FLOAT32) {
                float[] out = new float[c.logits.length];
                DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, c.targets, o, out);
                float[] inPlace = c.logits.clone();
                DnoLoss.compute(c.shape, inPlace, c.labels, c.ref, c.targets, o, inPlace);
                assertArrayEquals(out, inPlace, c.toString());
            } else {
                short[] out = new short[c.logitsHalf.length];
                DnoLoss.compute(c.shape, c.logitsHalf, dtype, c.labels, c.ref, c.targets, o, out);
                short[] inPlace = c.logitsHalf.clone();
                DnoLoss.compute(c.shape, inPlace, dtype, c.labels, c.ref, c.targets, o, inPlace);
                assertArrayEquals(out, inPlace, c.toString());
            }
        }
    }

    /** Twice the same call: bitwise the same outputs (thread counts: {@link ThreadCountTest}). */
    @Test
    void deterministicAcrossRuns() {
        RandomCase c = new RandomCase(3, 40, 2003, ElementType.FLOAT32, true, false,
                CaseSeed.of("DnoLossTest.deterministicAcrossRuns"));
        float[] g1 = new float[c.logits.length], g2 = new float[c.logits.length];
        DnoLossResult a = DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, c.targets, DnoLossOptions.defaults(), g1);
        DnoLossResult b = DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, c.targets, DnoLossOptions.defaults(), g2);
        assertEquals(Float.floatToRawIntBits(a.loss()), Float.floatToRawIntBits(b.loss()), c + ": loss bits");
        assertArrayEquals(a.logps(), b.logps(), c + ": logps");
        assertArrayEquals(a.z(), b.z(), c + ": z");
        assertArrayEquals(g1, g2, c + ": grad");
    }

    @Test
    void int32AndInt64LabelsAgree() {
        RandomCase c = new RandomCase(2, 10, 77, ElementType.FLOAT32, false, false,
                CaseSeed.of("DnoLossTest.int32AndInt64LabelsAgree"));
        float[] g1 = new float[c.logits.length], g2 = new float[c.logits.length];
        DnoLossResult a = DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, null, DnoLossOptions.defaults(), g1);
        DnoLossResult b = DnoLoss.compute(c.shape, c.logits, c.labelsInt(), c.ref, null, DnoLossOptions.defaults(), g2);
        assertEquals(a.loss(), b.loss(), c + ": loss");
        assertArrayEquals(g1, g2, c + ": grad");
    }

    /**
     * Central differences of the loss, taken in float64 on the reference (float32 differences of
     * the kernel's own loss would be dominated by rounding), against the kernel's gradient.
     */
    @Test
    void finiteDifferencesMatchTheGradient() {
        RandomCase c = new RandomCase(2, 4, 7, ElementType.FLOAT32, true, true,
                CaseSeed.of("DnoLossTest.finiteDifferencesMatchTheGradient"));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(1f);
        float[] g = new float[c.logits.length];
        DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, c.targets, o, g);
        double h = 1e-5;
        double[] q = new double[c.targets.length];
        for (int i = 0; i < q.length; i++) q[i] = c.targets[i];
        double[] ref = toDouble(c.ref);
        for (int i = 0; i < c.logits.length; i++) {
            double[] x = c.logitsAsDouble();
            x[i] += h;
            double up = new ReferenceDnoLoss(2, 4, 7, x, c.labels, ref, q, 1, false, RandomCase.IGNORE, 1).loss;
            x[i] -= 2 * h;
            double down = new ReferenceDnoLoss(2, 4, 7, x, c.labels, ref, q, 1, false, RandomCase.IGNORE, 1).loss;
            double fd = (up - down) / (2 * h);
            assertClose(c + " d loss / d logits[" + i + "]", fd, g[i], 1e-4, 1e-6);
        }
    }

    @Test
    void stableForHugeMargins() {
        RandomCase c = new RandomCase(2, 6, 11, ElementType.FLOAT32, false, false,
                CaseSeed.of("DnoLossTest.stableForHugeMargins"));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(1f);
        double[] own = c.reference(1, false, 1).logps;
        float[] ref = c.ref.clone();
        ref[0] = (float) (own[0] + 1e4);  // pair 0 (rows 0, 2): z ~ -1e4, loss ~ 1e4, gradient saturated
        ref[2] = (float) own[2];
        ref[1] = (float) own[1];          // pair 1 (rows 1, 3): z ~ +1e4, loss ~ 0
        ref[3] = (float) (own[3] + 1e4);
        float[] g = new float[c.logits.length];
        DnoLossResult r = DnoLoss.compute(c.shape, c.logits, c.labels, ref, null, o, g);
        ReferenceDnoLoss want = new ReferenceDnoLoss(2, 6, 11, c.logitsAsDouble(), c.labels, toDouble(ref), null, 1,
                false, RandomCase.IGNORE, 1);
        assertTrue(Float.isFinite(r.loss()) && r.loss() > 1000, c + ": loss " + r.loss());
        assertClose(c + " huge-margin loss", want.loss, r.loss(), 1e-4, 1e-3);
        for (int i = 0; i < g.length; i++) assertTrue(Float.isFinite(g[i]), c + ": grad[" + i + "] = " + g[i]);
    }

    @Test
    void directBuffersAndPointersMatchArrays() {
        RandomCase c = new RandomCase(2, 8, 129, ElementType.FLOAT32, false, false,
                CaseSeed.of("DnoLossTest.directBuffersAndPointersMatchArrays"));
        float[] g = new float[c.logits.length];
        DnoLossResult a = DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, null, DnoLossOptions.defaults(), g);

        // A direct buffer read from a non-zero position, gradient in place.
        ByteBuffer bytes = ByteBuffer.allocateDirect(16 + 4 * c.logits.length).order(ByteOrder.nativeOrder());
        bytes.position(16);
        ByteBuffer logits = bytes.slice().order(ByteOrder.nativeOrder());
        logits.asFloatBuffer().put(c.logits);
        ByteBuffer labels = ByteBuffer.allocateDirect(8 * c.labels.length).order(ByteOrder.nativeOrder());
        labels.asLongBuffer().put(c.labels);
        bytes.position(16);
        DnoLossResult b = DnoLoss.compute(c.shape, bytes, ElementType.FLOAT32, labels, ElementType.INT64, c.ref, null,
                DnoLossOptions.defaults(), bytes);
        assertEquals(a.loss(), b.loss(), c + ": loss through a direct buffer");
        float[] g2 = new float[g.length];
        bytes.position(16);
        bytes.slice().order(ByteOrder.nativeOrder()).asFloatBuffer().get(g2);
        assertArrayEquals(g, g2, c + ": grad through a direct buffer, in place");

        try (FloatPointer x = new FloatPointer(c.logits); LongPointer l = new LongPointer(c.labels);
             FloatPointer out = new FloatPointer(g.length)) {
            DnoLossResult d = DnoLoss.compute(c.shape, x, ElementType.FLOAT32, l, ElementType.INT64, c.ref, null,
                    DnoLossOptions.defaults(), out);
            assertEquals(a.loss(), d.loss(), c + ": loss through pointers");
            float[] g3 = new float[g.length];
            out.get(g3);
            assertArrayEquals(g, g3, c + ": grad through pointers");
        }
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
