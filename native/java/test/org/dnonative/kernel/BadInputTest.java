package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** Bad input gives an exception that names the problem; the JVM and the logits survive. */
class BadInputTest {
    private final RandomCase c = new RandomCase(2, 6, 13, ElementType.FLOAT32, false, false, CaseSeed.of("BadInputTest"));
    private final DnoLossOptions o = DnoLossOptions.defaults();

    private static void assertMessage(Throwable t, String... parts) {
        for (String p : parts) assertTrue(t.getMessage().contains(p), "message '" + t.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void wrongSizesNameTheArgument() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape,
                new float[c.logits.length - 1], c.labels, c.ref, null, o, null)), "logits", "N*T*V");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape,
                c.logits, new long[3], c.ref, null, o, null)), "labels");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape,
                c.logits, c.labels, new float[3], null, o, null)), "refLogps");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape,
                c.logits, c.labels, c.ref, new float[5], o, null)), "targets");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape,
                c.logits, c.labels, c.ref, null, o, new float[2])), "grad");
        try (FloatPointer small = new FloatPointer(10)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape, small,
                    ElementType.FLOAT32, small, ElementType.INT64, c.ref, null, o, null)), "logits", "bytes");
        }
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new LossShape(0, 3, 3)), "pairs");
    }

    @Test
    void outOfRangeLabelNamesThePosition() {
        long[] labels = c.labels.clone();
        labels[1 * 6 + 4] = 13;  // sequence 1, position 4; V = 13
        DnoException e = assertThrows(DnoException.class, () -> DnoLoss.compute(c.shape, c.logits, labels, c.ref, null, o, null),
                c.toString());
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
        assertMessage(e, "labels[1,4]", "13");
        labels[1 * 6 + 4] = -5;
        assertMessage(assertThrows(DnoException.class, () -> DnoLoss.compute(c.shape, c.logits, labels, c.ref, null, o,
                null), c.toString()), "labels[1,4]", "-5");
    }

    @Test
    void nanOrInfiniteLogitsFailAndLeaveInPlaceLogitsIntact() {
        for (float badValue : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = c.logits.clone();
            int row = 3 * 6 + 5;  // a counted position of sequence 3
            assertTrue(c.labels[row] != RandomCase.IGNORE, c.toString());
            x[row * 13 + 7] = badValue;
            float[] before = x.clone();
            DnoException e = assertThrows(DnoException.class, () -> DnoLoss.compute(c.shape, x, c.labels, c.ref, null, o, x),
                    c + " with a " + badValue + " logit");
            assertEquals(DnoException.Status.NONFINITE, e.status(), c.toString());
            assertMessage(e, "logits[3,5]");
            assertArrayEquals(before, x, c + ": in-place logits must be untouched after a failure");
        }
    }

    @Test
    void badScalarsAndTargets() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> o.withBeta(0f)), "beta");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> o.withBeta(-1f)), "beta");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> o.withBeta(Float.NaN)), "beta");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape, c.logits, c.labels,
                c.ref, new float[] {0.5f, 1.5f}, o, null)), "targets[1]", "[0,1]");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape, c.logits, c.labels,
                c.ref, new float[] {Float.NaN, 0.5f}, o, null)), "targets[0]");
        float[] ref = c.ref.clone();
        ref[2] = Float.NaN;
        assertMessage(assertThrows(IllegalArgumentException.class, () -> DnoLoss.compute(c.shape, c.logits, c.labels,
                ref, null, o, null)), "refLogps[2]");
    }

    @Test
    void nativeChecksHoldWithoutTheJavaLayer() {
        // beta <= 0 straight into the binding: a status code and a message, not a crash.
        int rc = DnoNative.dno_loss_cpu(1, 1, 1, 0, 8, 4, 8, -100, 8, 0, -1f, 0, 1f, 8, 8, 8,
                0, 0, 0, 1);
        assertEquals(DnoException.Status.INVALID_ARGUMENT.ordinal(), rc);
        assertMessage(new DnoException(DnoException.Status.of(rc),
                DnoNative.dno_last_error().getString()), "beta");
        // and the library still works afterwards
        assertTrue(Float.isFinite(DnoLoss.compute(c.shape, c.logits, c.labels, c.ref, null, o, null).loss()));
    }
}
