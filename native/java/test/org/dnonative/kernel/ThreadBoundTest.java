package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The thread count has an upper bound, {@link DnoLossOptions#MAX_THREADS}: above it the options are
 * refused before any native call (the native side starts one OS thread per requested thread, up to
 * the row count, and sizes per-thread scratch by the count: 100000 threads on a large batch aborted
 * the JVM when thread creation failed, and Integer.MAX_VALUE made the fused path allocate 16 GiB).
 * The bound itself is a valid count that computes the same loss as one thread.
 */
class ThreadBoundTest {
    @Test
    void countsAboveTheBoundAreRefusedNamingTheArgument() {
        for (int bad : new int[] {DnoLossOptions.MAX_THREADS + 1, 100_000, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DnoLossOptions.defaults().withThreads(bad), "withThreads(" + bad + ")");
            FusedLinearDnoLossTest.assertMessage(e, "threads", String.valueOf(bad), String.valueOf(DnoLossOptions.MAX_THREADS));
            e = assertThrows(IllegalArgumentException.class, () -> new DnoLossOptions(0.1f, -100, false, 1f, bad),
                    "new DnoLossOptions(..., threads=" + bad + ")");
            FusedLinearDnoLossTest.assertMessage(e, "threads", String.valueOf(bad));
        }
    }

    @Test
    void theBoundItselfIsAcceptedAndGivesTheOneThreadResult() {
        // 2*7*37 = 518 rows, more than MAX_THREADS / 2: the split really starts hundreds of threads
        RandomCase c = new RandomCase(7, 37, 61, ElementType.FLOAT32, true, false, CaseSeed.of("ThreadBoundTest.max"));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.3f);
        float[] oneGrad = DnoLossTest.run(c, o.withThreads(1));
        DnoLossResult one = DnoLossTest.got(c, o.withThreads(1));
        DnoLossOptions max = o.withThreads(DnoLossOptions.MAX_THREADS);
        assertEquals(DnoLossOptions.MAX_THREADS, max.threads());
        float[] grad = DnoLossTest.run(c, max);
        DnoLossResult r = DnoLossTest.got(c, max);
        String what = c + " threads=" + DnoLossOptions.MAX_THREADS + " vs 1";
        assertEquals(Float.floatToRawIntBits(one.loss()), Float.floatToRawIntBits(r.loss()), what + ": loss bits");
        assertArrayEquals(one.logps(), r.logps(), what + ": logps");
        assertArrayEquals(oneGrad, grad, what + ": grad");
    }
}
