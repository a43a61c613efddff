package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused-linear CPU loss against the float64 reference, the logits-level kernel, and itself
 * chunked, on random inputs from a fixed seed per case.
 */
class FusedLinearDnoLossTest {

    /** Outputs of one call, gradients as float. */
    record Out(FusedLinearResult r, float[] gradHidden, float[] gradWeight, float[] gradBias) {}

    static Out run(FusedCase c, DnoLossOptions o, FusedLinearOptions f, boolean grads) {
        return run(c, o, f, grads, null, null, null);
    }

    /** With accumulate, the gradients start from the given values (float, rounded to the dtype). */
    static Out run(FusedCase c, DnoLossOptions o, FusedLinearOptions f, boolean grads, float[] gh0, float[] gw0, float[] gb0) {
        int nth = c.hidden.length, vh = c.weight.length, v = (int) c.shape.vocab();
        boolean withBias = c.bias != null;
        if (c.dtype == ElementType.FLOAT32) {
            float[] gh = grads ? init(gh0, nth) : null, gw = grads ? init(gw0, vh) : null;
            float[] gb = grads && withBias ? init(gb0, v) : null;
            FusedLinearResult r = FusedLinearDnoLoss.compute(c.shape, c.hiddenSize, c.hidden, c.weight, c.bias, c.labels,
                    c.ref, c.targets, o, f, gh, gw, gb);
            return new Out(r, gh, gw, gb);
        }
        short[] gh = grads ? initHalf(c.dtype, gh0, nth) : null, gw = grads ? initHalf(c.dtype, gw0, vh) : null;
        short[] gb = grads && withBias ? initHalf(c.dtype, gb0, v) : null;
        FusedLinearResult r = FusedLinearDnoLoss.compute(c.shape, c.hiddenSize, c.hiddenHalf, c.weightHalf, c.biasHalf,
                c.dtype, c.labels, c.ref, c.targets, o, f, gh, gw, gb);
        return new Out(r, toFloat(c.dtype, gh), toFloat(c.dtype, gw), toFloat(c.dtype, gb));
    }

    private static float[] init(float[] start, int n) {
        return start == null ? new float[n] : start.clone();
    }

    private static short[] initHalf(ElementType t, float[] start, int n) {
        short[] s = new short[n];
        if (start != null) for (int i = 0; i < n; i++) s[i] = Half.to(t, start[i]);
        return s;
    }

    static float[] toFloat(ElementType t, short[] s) {
        if (s == null) return null;
        float[] f = new float[s.length];
        for (int i = 0; i < s.length; i++) f[i] = Half.from(t, s[i]);
        return f;
    }

    /** max |got - want| relative to max |want|, which must be below tol; ignored rows exactly 0. */
    static void assertTensorClose(String what, double[] want, float[] got, double tol) {
        assertTensorClose(what, want, got, tol, 0);
    }

    /**
     * The same, but an error up to {@code floor} always passes: the dtype's own rounding where the
     * gradient is so small that its values are subnormal ({@link #floor}).
     */
    static void assertTensorClose(String what, double[] want, float[] got, double tol, double floor) {
        assertEquals(want.length, got.length, what + " length");
        double maxWant = 0, maxErr = 0;
        int worst = -1;
        for (int i = 0; i < want.length; i++) {
            maxWant = Math.max(maxWant, Math.abs(want[i]));
            double e = Math.abs(got[i] - want[i]);
            if (!(e <= maxErr)) { maxErr = e; worst = i; }
        }
        if (!(maxErr <= Math.max(tol * maxWant, floor)))
            fail(what + ": max error " + maxErr + " at [" + worst + "] (expected " + want[worst] + " got " + got[worst]
                    + ") exceeds " + tol + " x max|want| = " + tol * maxWant);
    }

    static double tol(ElementType t) {
        return switch (t) { case BFLOAT16 -> 1.2e-2; case FLOAT16 -> 3e-3; default -> 2e-5; };
    }

    /**
     * One unit in the last place of the dtype's subnormals: float16 spaces its values below 2^-14
     * 2^-24 apart, so a gradient whose largest entry is ~1e-5 cannot be stored closer than that
     * (measured: a correct kernel missed 3e-3 x max|want| = 2.5e-8 by rounding 2.68e-7 to 2.98e-7).
     */
    static double floor(ElementType t) {
        return t == ElementType.FLOAT16 ? 0x1p-24 : 0;
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        int[][] shapes = {{3, 13, 37, 1031}, {1, 5, 8, 17}};
        for (ElementType dtype : new ElementType[] {ElementType.FLOAT32, ElementType.BFLOAT16, ElementType.FLOAT16})
            for (int[] s : shapes)
                for (boolean bias : new boolean[] {false, true})
                    for (boolean soft : new boolean[] {false, true})
                        for (boolean average : new boolean[] {false, true})
                            all.add(Arguments.of(s[0], s[1], s[2], s[3], dtype, bias, soft, average));
        return all.stream();
    }

    /**
     * The same float64 reference with the AMX GEMM (bf16x3 products: about float32; the gradients
     * go through two products, hence 5x float32's tolerance); the 16-bit dtypes keep theirs.
     */
    @ParameterizedTest(name = "P={0} T={1} H={2} V={3} {4} bias={5} soft={6} mean={7}")
    @MethodSource("cases")
    void matchesFloat64ReferenceWithTheAmxGemm(int p, int t, int h, int v, ElementType dtype, boolean bias, boolean soft, boolean average) {
        org.junit.jupiter.api.Assumptions.assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        FusedCase c = new FusedCase(p, t, h, v, dtype, bias, soft, p > 1,
                CaseSeed.of("FusedLinearDnoLossTest.matchesFloat64ReferenceWithTheAmxGemm", p, t, h, v, dtype, bias, soft, average));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withAverage(average).withGradScale(1.7f);
        FusedCase.Reference want = c.reference(0.5, average, 1.7);
        Out got = run(c, o, FusedLinearOptions.defaults().withGemm(FusedLinearOptions.Gemm.AMX), true);
        double lossTol = dtype == ElementType.FLOAT32 ? 2e-5 : 1e-4;
        DnoLossTest.assertClose(c + " loss", want.dno.loss, got.r().loss(), lossTol, lossTol);
        for (int n = 0; n < 2 * p; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.dno.logps[n], got.r().logps()[n], 2e-5, average ? 1e-5 : 2e-4);
        for (int i = 0; i < p; i++)
            DnoLossTest.assertClose(c + " z[" + i + "]", want.dno.z[i], got.r().z()[i], 1e-4, 5e-5);
        double g = dtype == ElementType.FLOAT32 ? 1e-4 : tol(dtype);
        assertTensorClose(c + " gradHidden", want.gradHidden, got.gradHidden(), g, floor(dtype));
        assertTensorClose(c + " gradWeight", want.gradWeight, got.gradWeight(), g, floor(dtype));
        if (bias) assertTensorClose(c + " gradBias", want.gradBias, got.gradBias(), g, floor(dtype));
    }

    @Test
    void theAmxGemmIsRefusedWithTheReasonWhereItCannotRun() {
        if (AmxLinear.available()) return;   // covered by matchesFloat64ReferenceWithTheAmxGemm
        FusedCase c = new FusedCase(1, 5, 8, 17, ElementType.FLOAT32, false, false, false, CaseSeed.of("FusedLinearDnoLossTest.amxRefused", 1));
        DnoException e = assertThrows(DnoException.class, () -> run(c, DnoLossOptions.defaults(),
                FusedLinearOptions.defaults().withGemm(FusedLinearOptions.Gemm.AMX), true));
        assertEquals(DnoException.Status.UNSUPPORTED, e.status());
        assertTrue(e.getMessage().contains(AmxLinear.whyNotAvailable()), e.getMessage());
    }

    @ParameterizedTest(name = "P={0} T={1} H={2} V={3} {4} bias={5} soft={6} mean={7}")
    @MethodSource("cases")
    void matchesFloat64Reference(int p, int t, int h, int v, ElementType dtype, boolean bias, boolean soft, boolean average) {
        FusedCase c = new FusedCase(p, t, h, v, dtype, bias, soft, p > 1,
                CaseSeed.of("FusedLinearDnoLossTest.matchesFloat64Reference", p, t, h, v, dtype, bias, soft, average));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withAverage(average).withGradScale(1.7f);
        FusedCase.Reference want = c.reference(0.5, average, 1.7);
        Out got = run(c, o, FusedLinearOptions.defaults(), true);
        double lossTol = dtype == ElementType.FLOAT32 ? 2e-5 : 1e-4;
        DnoLossTest.assertClose(c + " loss", want.dno.loss, got.r().loss(), lossTol, lossTol);
        for (int n = 0; n < 2 * p; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.dno.logps[n], got.r().logps()[n], 2e-5, average ? 1e-5 : 2e-4);
        for (int i = 0; i < p; i++) {
            DnoLossTest.assertClose(c + " z[" + i + "]", want.dno.z[i], got.r().z()[i], 1e-4, 5e-5);
            DnoLossTest.assertClose(c + " chosen[" + i + "]", want.dno.chosenRewards[i], got.r().result().chosenRewards()[i], 1e-4, 5e-5);
            DnoLossTest.assertClose(c + " rejected[" + i + "]", want.dno.rejectedRewards[i], got.r().result().rejectedRewards()[i], 1e-4, 5e-5);
        }
        assertTensorClose(c + " gradHidden", want.gradHidden, got.gradHidden(), tol(dtype), floor(dtype));
        assertTensorClose(c + " gradWeight", want.gradWeight, got.gradWeight(), tol(dtype), floor(dtype));
        if (bias) assertTensorClose(c + " gradBias", want.gradBias, got.gradBias(), tol(dtype), floor(dtype));
        else assertNull(got.gradBias());
        int hs = c.hiddenSize;
        for (int row = 0; row < c.labels.length; row++)
            if (c.labels[row] == RandomCase.IGNORE)
                for (int k = 0; k < hs; k++)
                    if (got.gradHidden()[row * hs + k] != 0f) fail(c + ": gradHidden at ignored row " + row + " is not 0");
        if (p > 1) assertEquals(0f, got.r().logps()[2 * p - 1], c + ": the empty sequence's logp");
        assertEquals(1, got.r().chunks(), c + ": one chunk under the default budget");
        assertEquals(3, got.r().gemms(), c + ": three GEMMs in one pass");
    }

    /** The logits-level kernel on logits from a plain float32 matmul, then the chain rule. */
    @Test
    void matchesLogitsLevelKernelComposedWithMatmul() {
        FusedCase c = new FusedCase(3, 11, 29, 523, ElementType.FLOAT32, true, true, false,
                CaseSeed.of("FusedLinearDnoLossTest.matchesLogitsLevelKernel"));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.3f);
        double[] ld = c.logits();
        float[] logits = new float[ld.length];
        for (int i = 0; i < ld.length; i++) logits[i] = (float) ld[i];
        float[] g = new float[logits.length];
        DnoLossResult want = DnoLoss.compute(c.shape, logits, c.labels, c.ref, c.targets, o, g);
        int rows = logits.length / 523, h = 29, v = 523;
        double[] gh = new double[rows * h], gw = new double[v * h], gb = new double[v];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < v; j++) {
                double gv = g[r * v + j];
                gb[j] += gv;
                for (int k = 0; k < h; k++) {
                    gh[r * h + k] += gv * c.weight[j * h + k];
                    gw[j * h + k] += gv * c.hidden[r * h + k];
                }
            }
        Out got = run(c, o, FusedLinearOptions.defaults(), true);
        DnoLossTest.assertClose(c + " loss", want.loss(), got.r().loss(), 1e-5, 1e-6);
        for (int n = 0; n < want.logps().length; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.logps()[n], got.r().logps()[n], 1e-5, 1e-4);
        assertTensorClose(c + " gradHidden", gh, got.gradHidden(), 1e-5);
        assertTensorClose(c + " gradWeight", gw, got.gradWeight(), 1e-5);
        assertTensorClose(c + " gradBias", gb, got.gradBias(), 1e-5);
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** Tiny budgets: many single-pass chunks, and every pair in two passes; same results. */
    @Test
    void chunkedAndTwoPassEqualUnchunked() {
        for (ElementType dtype : new ElementType[] {ElementType.FLOAT32, ElementType.BFLOAT16}) {
            FusedCase c = new FusedCase(4, 40, 33, 517, dtype, true, true, true,
                    CaseSeed.of("FusedLinearDnoLossTest.chunkedAndTwoPassEqualUnchunked", dtype));
            DnoLossOptions o = DnoLossOptions.defaults().withAverage(true).withBeta(0.7f);
            Out whole = run(c, o, FusedLinearOptions.defaults(), true);
            assertEquals(1, whole.r().chunks(), c + ": chunks under the default budget");
            // about 55 counted rows per pair; a row costs 4*(V+H)+1 = 2201 bytes
            long base = 64 * 1024;
            for (long rowsAllowed : new long[] {120, 20, 7}) {
                FusedLinearOptions f = FusedLinearOptions.defaults().withMemoryBudget(base + rowsAllowed * 2201);
                Out part = run(c, o, f, true);
                String what = c + " budget " + f.memoryBudget();
                assertTrue(part.r().chunks() > 1, what + ": expected several chunks, got " + part.r().chunks());
                if (rowsAllowed <= 20) assertTrue(part.r().twoPassPairs() > 0, what + ": expected two-pass pairs");
                else assertEquals(0, part.r().twoPassPairs(), what);
                assertTrue(part.r().peakBytes() <= f.memoryBudget() + (dtype == ElementType.FLOAT32 ? 0 : 8L * c.weight.length),
                        what + ": peak " + part.r().peakBytes());
                DnoLossTest.assertClose(what + " loss", whole.r().loss(), part.r().loss(), 1e-6, 1e-7);
                assertArrayEquals(whole.r().logps(), part.r().logps(), 1e-5f, what);
                double t = dtype == ElementType.FLOAT32 ? 1e-5 : 1e-2;
                assertTensorClose(what + " gradHidden", toDouble(whole.gradHidden()), part.gradHidden(), t);
                assertTensorClose(what + " gradWeight", toDouble(whole.gradWeight()), part.gradWeight(), t);
                assertTensorClose(what + " gradBias", toDouble(whole.gradBias()), part.gradBias(), t);
            }
        }
    }

    /** One call with every gradient, starting from gh0/gw0/gb0 when accumulating: the CPU or the CUDA path. */
    interface Runner {
        Out run(FusedCase c, DnoLossOptions o, FusedLinearOptions f, float[] gh0, float[] gw0, float[] gb0);
    }

    static final Runner CPU = (c, o, f, gh0, gw0, gb0) -> run(c, o, f, true, gh0, gw0, gb0);

    /** With accumulate, every gradient is what it held plus the gradient of this call, over several chunks. */
    static void checkAccumulate(Runner runner) {
        FusedCase c = new FusedCase(2, 9, 21, 311, ElementType.FLOAT32, true, false, false,
                CaseSeed.of("FusedLinearDnoLossTest.checkAccumulate"));
        DnoLossOptions o = DnoLossOptions.defaults();
        Out once = runner.run(c, o, FusedLinearOptions.defaults(), null, null, null);
        java.util.Random rnd = new java.util.Random(c.seed + 1);
        float[] gh0 = new float[c.hidden.length], gw0 = new float[c.weight.length], gb0 = new float[311];
        for (float[] a : new float[][] {gh0, gw0, gb0}) for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian() * 1e-3f;
        // small budget so that grad_weight is accumulated over several chunks too
        Out acc = runner.run(c, o, FusedLinearOptions.defaults().withAccumulate(true).withMemoryBudget(17_000), gh0, gw0, gb0);
        assertTrue(acc.r().chunks() > 1, c + ": expected several chunks, got " + acc.r().chunks());
        float[][] got = {acc.gradHidden(), acc.gradWeight(), acc.gradBias()};
        float[][] one = {once.gradHidden(), once.gradWeight(), once.gradBias()};
        float[][] start = {gh0, gw0, gb0};
        for (int k = 0; k < 3; k++) {
            double[] want = new double[start[k].length];
            for (int i = 0; i < want.length; i++) want[i] = (double) start[k][i] + one[k][i];
            assertTensorClose(c + " accumulated " + new String[] {"gradHidden", "gradWeight", "gradBias"}[k], want, got[k], 1e-5);
        }
    }

    /** The same inputs twice, chunked: bitwise the same outputs. */
    static void checkDeterministic(Runner runner) {
        FusedCase c = new FusedCase(3, 20, 40, 700, ElementType.BFLOAT16, true, true, false,
                CaseSeed.of("FusedLinearDnoLossTest.checkDeterministic"));
        FusedLinearOptions f = FusedLinearOptions.defaults().withMemoryBudget(64 * 1024 + 30 * 3000);
        Out a = runner.run(c, DnoLossOptions.defaults(), f, null, null, null);
        Out b = runner.run(c, DnoLossOptions.defaults(), f, null, null, null);
        assertEquals(Float.floatToRawIntBits(a.r().loss()), Float.floatToRawIntBits(b.r().loss()), c + ": loss bits");
        assertArrayEquals(a.r().logps(), b.r().logps(), c + ": logps");
        assertArrayEquals(a.gradHidden(), b.gradHidden(), c + ": gradHidden");
        assertArrayEquals(a.gradWeight(), b.gradWeight(), c + ": gradWeight");
        assertArrayEquals(a.gradBias(), b.gradBias(), c + ": gradBias");
    }

    @Test
    void accumulateAddsToWhatTheGradientsHold() {
        checkAccumulate(CPU);
    }

    @Test
    void forwardOnlyGivesTheSameLossWithOneGemm() {
        FusedCase c = new FusedCase(2, 9, 21, 311, ElementType.FLOAT32, true, false, false,
                CaseSeed.of("FusedLinearDnoLossTest.forwardOnly"));
        DnoLossOptions o = DnoLossOptions.defaults();
        Out once = run(c, o, FusedLinearOptions.defaults(), true);
        Out fwd = run(c, o, FusedLinearOptions.defaults(), false);
        assertEquals(once.r().loss(), fwd.r().loss(), c + ": loss");
        assertArrayEquals(once.r().logps(), fwd.r().logps(), c + ": logps");
        assertEquals(1, fwd.r().gemms(), c + ": GEMMs of a forward-only call");
    }

    @Test
    void bitwiseDeterministic() {
        checkDeterministic(CPU);
    }

    @Test
    void badInputNamesTheArgument() {
        FusedCase c = new FusedCase(2, 6, 5, 13, ElementType.FLOAT32, true, false, false,
                CaseSeed.of("FusedLinearDnoLossTest.badInputNamesTheArgument"));
        DnoLossOptions o = DnoLossOptions.defaults();
        FusedLinearOptions f = FusedLinearOptions.defaults();
        float[] gh = new float[c.hidden.length], gw = new float[c.weight.length], gb = new float[13];
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5,
                new float[c.hidden.length - 1], c.weight, c.bias, c.labels, c.ref, null, o, f, gh, gw, gb)), "hidden", "N*T*H");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5,
                c.hidden, new float[3], c.bias, c.labels, c.ref, null, o, f, gh, gw, gb)), "weight", "V*H");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5,
                c.hidden, c.weight, new float[12], c.labels, c.ref, null, o, f, gh, gw, gb)), "bias");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5,
                c.hidden, c.weight, null, c.labels, c.ref, null, o, f, gh, gw, gb)), "gradBias", "bias");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5,
                c.hidden, c.weight, c.bias, c.labels, c.ref, null, o, f, gh, new float[7], gb)), "gradWeight");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5,
                c.hidden, c.weight, c.bias, c.labels, c.ref, null, o, f, new float[7], gw, gb)), "gradHidden");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 0,
                c.hidden, c.weight, c.bias, c.labels, c.ref, null, o, f, gh, gw, gb)), "hiddenSize");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5,
                c.hidden, c.weight, c.bias, c.labels, new float[2], null, o, f, gh, gw, gb)), "refLogps");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> f.withMemoryBudget(-1)), "memoryBudget");
        // Too small a budget for one row: the native check names it.
        assertMessage(assertThrows(DnoException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5, c.hidden, c.weight,
                c.bias, c.labels, c.ref, null, o, f.withMemoryBudget(100), gh, gw, gb)), "memory_budget");
        long[] labels = c.labels.clone();
        labels[1 * 6 + 4] = 13;
        DnoException e = assertThrows(DnoException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5, c.hidden,
                c.weight, c.bias, labels, c.ref, null, o, f, gh, gw, gb));
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
        assertMessage(e, "labels[1,4]", "13");
        float[] w = c.weight.clone();
        w[7 * 5 + 2] = Float.NaN;
        float[] ghBefore = gh.clone();
        e = assertThrows(DnoException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5, c.hidden, w, c.bias, c.labels,
                c.ref, null, o, f.withAccumulate(true), gh, gw, gb));
        assertEquals(DnoException.Status.NONFINITE, e.status(), c.toString());
        assertMessage(e, "weight[7,2]");
        assertArrayEquals(ghBefore, gh, c + ": no gradient is written after a failed check");
        float[] hid = c.hidden.clone();
        int row = 3 * 6 + 5;  // counted
        assertTrue(c.labels[row] != RandomCase.IGNORE, c.toString());
        hid[row * 5 + 1] = Float.POSITIVE_INFINITY;
        assertMessage(assertThrows(DnoException.class, () -> FusedLinearDnoLoss.compute(c.shape, 5, hid, c.weight,
                c.bias, c.labels, c.ref, null, o, f, gh, gw, gb)), "hidden[3,5,1]");
        hid[row * 5 + 1] = 0;
        hid[0] = Float.NaN;  // position [0,0] is prompt: never read
        assertTrue(c.labels[0] == RandomCase.IGNORE, c.toString());
        assertTrue(Float.isFinite(FusedLinearDnoLoss.compute(c.shape, 5, hid, c.weight, c.bias, c.labels, c.ref, null,
                o, f, gh, gw, gb).loss()), c + ": a NaN at an ignored position must not be read");
    }

    static void assertMessage(Throwable t, String... parts) {
        for (String p : parts) assertTrue(t.getMessage().contains(p), "message '" + t.getMessage() + "' lacks '" + p + "'");
    }
}
