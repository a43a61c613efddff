package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CPU thread count ({@link DnoLossOptions#withThreads}: 0 = all cores) changes how the work
 * is split, never the result. The logits loss promises bitwise the same outputs on the same
 * device (native/include/dno_loss.h: fixed reduction orders; its threads split independent rows,
 * and the sequence sums are taken in one fixed order), so it is checked bitwise; the fused-linear
 * loss is only promised determinism for a fixed BLAS and thread count (the GEMMs split their sums
 * by thread), so it is checked within float32 rounding. A negative count is refused up front.
 */
class ThreadCountTest {
    /** One thread, two, three (an uneven split of the rows), all cores (0), and more threads than cores. */
    static final int[] THREADS = {1, 2, 3, 0, 16};

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ElementType.class, names = {"FLOAT32", "BFLOAT16", "FLOAT16"})
    void logitsLossIsBitwiseTheSameForEveryThreadCount(ElementType dtype) {
        // 130 rows: not a multiple of 3 or 16, so the threads get unequal shares.
        RandomCase c = new RandomCase(5, 13, 1031, dtype, true, true, CaseSeed.of("ThreadCountTest.logits", dtype));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withGradScale(1.7f);
        float[] oneGrad = DnoLossTest.run(c, o.withThreads(1));
        DnoLossResult one = DnoLossTest.got(c, o.withThreads(1));
        DnoLossTest.assertGradClose(c, c.reference(0.5, false, 1.7).grad, oneGrad);
        for (int threads : THREADS) {
            String what = c + " threads=" + threads + " vs 1";
            float[] grad = DnoLossTest.run(c, o.withThreads(threads));
            DnoLossResult r = DnoLossTest.got(c, o.withThreads(threads));
            assertEquals(Float.floatToRawIntBits(one.loss()), Float.floatToRawIntBits(r.loss()), what + ": loss bits");
            assertArrayEquals(one.logps(), r.logps(), what + ": logps");
            assertArrayEquals(one.z(), r.z(), what + ": z");
            assertArrayEquals(one.chosenRewards(), r.chosenRewards(), what + ": chosen rewards");
            assertArrayEquals(one.rejectedRewards(), r.rejectedRewards(), what + ": rejected rewards");
            assertArrayEquals(oneGrad, grad, what + ": grad");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ElementType.class, names = {"FLOAT32", "BFLOAT16"})
    void fusedLossAgreesForEveryThreadCount(ElementType dtype) {
        FusedCase c = new FusedCase(3, 17, 24, 517, dtype, true, true, true, CaseSeed.of("ThreadCountTest.fused", dtype));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f);
        FusedCase.Reference want = c.reference(0.5, false, 1);
        // Pairs of 24, 24 and 13 counted rows; a row costs 4*(V+H)+1 bytes and the fixed part is
        // under 16 KiB: chunks of one pair each, then every long pair in two passes, so that the
        // thread counts also split chunked GEMMs.
        long perRow = 4 * (517 + 24) + 1;
        for (long rowsAllowed : new long[] {27, 7}) {
            long budget = 16 * 1024 + rowsAllowed * perRow;
            FusedLinearOptions f = FusedLinearOptions.defaults().withMemoryBudget(budget);
            FusedLinearDnoLossTest.Out one = FusedLinearDnoLossTest.run(c, o.withThreads(1), f, true);
            String base = c + " budget " + budget;
            assertTrue(one.r().chunks() > 1, base + ": expected several chunks, got " + one.r().chunks());
            if (rowsAllowed < 20) assertTrue(one.r().twoPassPairs() > 0, base + ": expected two-pass pairs");
            else assertEquals(0, one.r().twoPassPairs(), base + ": two-pass pairs");
            // 16-bit gradients are rounded once at the end: a float32 difference may flip that rounding.
            double vsOne = dtype == ElementType.FLOAT32 ? 1e-5 : 1e-2;
            double tol = FusedLinearDnoLossTest.tol(dtype);
            for (int threads : THREADS) {
                String what = base + " threads=" + threads;
                FusedLinearDnoLossTest.Out r = FusedLinearDnoLossTest.run(c, o.withThreads(threads), f, true);
                assertEquals(one.r().chunks(), r.r().chunks(), what + ": chunks");
                assertEquals(one.r().twoPassPairs(), r.r().twoPassPairs(), what + ": two-pass pairs");
                DnoLossTest.assertClose(what + " loss vs 1 thread", one.r().loss(), r.r().loss(), 1e-6, 1e-7);
                DnoLossTest.assertClose(what + " loss", want.dno.loss, r.r().loss(), 1e-4, 1e-4);
                for (int n = 0; n < want.dno.logps.length; n++)
                    DnoLossTest.assertClose(what + " logps[" + n + "] vs 1 thread", one.r().logps()[n], r.r().logps()[n],
                            1e-6, 1e-5);
                FusedLinearDnoLossTest.assertTensorClose(what + " gradHidden vs 1 thread",
                        FusedLinearDnoLossTest.toDouble(one.gradHidden()), r.gradHidden(), vsOne);
                FusedLinearDnoLossTest.assertTensorClose(what + " gradWeight vs 1 thread",
                        FusedLinearDnoLossTest.toDouble(one.gradWeight()), r.gradWeight(), vsOne);
                FusedLinearDnoLossTest.assertTensorClose(what + " gradBias vs 1 thread",
                        FusedLinearDnoLossTest.toDouble(one.gradBias()), r.gradBias(), vsOne);
                FusedLinearDnoLossTest.assertTensorClose(what + " gradHidden", want.gradHidden, r.gradHidden(), tol);
                FusedLinearDnoLossTest.assertTensorClose(what + " gradWeight", want.gradWeight, r.gradWeight(), tol);
            }
        }
    }

    @Test
    void aNegativeThreadCountIsRefusedNamingTheArgument() {
        for (int bad : new int[] {-1, -3, Integer.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DnoLossOptions.defaults().withThreads(bad), "withThreads(" + bad + ")");
            FusedLinearDnoLossTest.assertMessage(e, "threads", String.valueOf(bad));
            e = assertThrows(IllegalArgumentException.class, () -> new DnoLossOptions(0.1f, -100, false, 1f, bad),
                    "new DnoLossOptions(..., threads=" + bad + ")");
            FusedLinearDnoLossTest.assertMessage(e, "threads", String.valueOf(bad));
        }
    }
}
