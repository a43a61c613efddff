package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA fused-linear loss against the float64 reference and the CPU path, on random inputs
 * from a fixed seed per case: whole, chunked and in two passes, accumulating, repeated, and on bad input. Runs on a
 * CUDA device, or on the CPU emulation of CUDA (see {@link GpuTestSupport}).
 */
@Tag("gpu")
class CudaFusedLinearDnoLossTest {
    @BeforeAll
    static void needsGpu() {
        GpuTestSupport.needsGpu();
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (ElementType dtype : new ElementType[] {ElementType.FLOAT32, ElementType.BFLOAT16, ElementType.FLOAT16})
            for (boolean bias : new boolean[] {false, true})
                for (long budget : new long[] {0, 200_000})
                    all.add(Arguments.of(dtype, bias, budget));
        return all.stream();
    }

    private static Pointer host(ElementType dtype, float[] f, short[] h) {
        return dtype == ElementType.FLOAT32 ? new FloatPointer(f) : new ShortPointer(h);
    }

    private static Pointer hostOf(ElementType dtype, float[] values) {
        if (dtype == ElementType.FLOAT32) return new FloatPointer(values);
        short[] s = new short[values.length];
        for (int i = 0; i < s.length; i++) s[i] = Half.to(dtype, values[i]);
        return new ShortPointer(s);
    }

    private static float[] download(ElementType dtype, CudaBuffer b, int n) {
        float[] out = new float[n];
        if (dtype == ElementType.FLOAT32) {
            FloatPointer p = new FloatPointer(n);
            b.copyToHost(p, 4L * n);
            p.get(out);
        } else {
            ShortPointer p = new ShortPointer(n);
            b.copyToHost(p, 2L * n);
            for (int i = 0; i < n; i++) out[i] = Half.from(dtype, p.get(i));
        }
        return out;
    }

    /**
     * Uploads the case, runs the CUDA loss with every gradient (starting from gh0/gw0/gb0 when
     * accumulating, else from garbage, which must be overwritten), downloads everything.
     */
    static FusedLinearDnoLossTest.Out runCuda(FusedCase c, DnoLossOptions o, FusedLinearOptions f, float[] gh0,
                                              float[] gw0, float[] gb0) {
        ElementType dt = c.dtype;
        int es = dt.bytes(), nth = c.hidden.length, vh = c.weight.length, v = (int) c.shape.vocab();
        boolean withBias = c.bias != null;
        Random garbage = new Random(c.seed + 7);
        try (CudaBuffer h = new CudaBuffer((long) es * nth); CudaBuffer w = new CudaBuffer((long) es * vh);
             CudaBuffer b = new CudaBuffer((long) es * v); CudaBuffer l = new CudaBuffer(8L * c.labels.length);
             CudaBuffer gh = new CudaBuffer((long) es * nth); CudaBuffer gw = new CudaBuffer((long) es * vh);
             CudaBuffer gb = new CudaBuffer((long) es * v);
             CudaFusedLinearDnoLoss loss = new CudaFusedLinearDnoLoss(c.shape.pairs())) {
            h.copyFromHost(host(dt, c.hidden, c.hiddenHalf), (long) es * nth);
            w.copyFromHost(host(dt, c.weight, c.weightHalf), (long) es * vh);
            if (withBias) b.copyFromHost(host(dt, c.bias, c.biasHalf), (long) es * v);
            l.copyFromHost(new LongPointer(c.labels), 8L * c.labels.length);
            float[][] start = {gh0, gw0, gb0};
            CudaBuffer[] grads = {gh, gw, gb};
            int[] sizes = {nth, vh, v};
            for (int k = 0; k < 3; k++) {
                float[] s = start[k];
                if (s == null) {
                    s = new float[sizes[k]];
                    for (int i = 0; i < s.length; i++) s[i] = garbage.nextFloat() * 100 - 50;
                }
                grads[k].copyFromHost(hostOf(dt, s), (long) es * sizes[k]);
            }
            Cuda.synchronize(0);
            Cuda.asyncPoolPeakBytes(true);
            FusedLinearResult stats = loss.enqueue(c.shape, c.hiddenSize, dt, h.address(), w.address(),
                    withBias ? b.address() : 0, l.address(), ElementType.INT64, c.ref, c.targets, o, f, gh.address(),
                    gw.address(), withBias ? gb.address() : 0, 0);
            DnoLossResult r = loss.result(0);
            // Measured by the CUDA runtime, not taken from the plan. The pool may hand out memory
            // in granules of up to 2 MiB, which a tiny budget cannot account for.
            long measured = Cuda.asyncPoolPeakBytes(false);
            long budget = f.memoryBudget() > 0 ? f.memoryBudget() : FusedLinearOptions.DEFAULT_MEMORY_BUDGET;
            assertTrue(measured > 0 && measured <= Math.max(budget, 2L << 20),
                    c + ": measured workspace peak " + measured + " bytes against the budget " + budget);
            return new FusedLinearDnoLossTest.Out(
                    new FusedLinearResult(r, stats.peakBytes(), stats.chunks(), stats.gemms(), stats.twoPassPairs()),
                    download(dt, gh, nth), download(dt, gw, vh), withBias ? download(dt, gb, v) : null);
        }
    }

    static double tol(ElementType dtype) {
        return FusedLinearDnoLossTest.tol(dtype) * (dtype == ElementType.FLOAT32 ? 50 : 2);
    }

    @ParameterizedTest(name = "{0} bias={1} budget={2}")
    @MethodSource("cases")
    void matchesFloat64ReferenceAndCpu(ElementType dtype, boolean withBias, long budget) {
        FusedCase c = new FusedCase(3, 40, 64, 1031, dtype, withBias, true, true,
                CaseSeed.of("CudaFusedLinearDnoLossTest.matchesFloat64ReferenceAndCpu", dtype, withBias, budget));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f);
        FusedLinearOptions f = FusedLinearOptions.defaults().withMemoryBudget(budget);
        FusedCase.Reference want = c.reference(0.5, false, 1);
        FusedLinearDnoLossTest.Out got = runCuda(c, o, f, null, null, null);
        String what = c + " (" + got.r().chunks() + " chunks, " + got.r().twoPassPairs() + " two-pass pairs)";
        if (budget > 0) assertTrue(got.r().chunks() > 1, what + ": expected several chunks");
        assertTrue(got.r().peakBytes() <= (budget > 0 ? budget : FusedLinearOptions.DEFAULT_MEMORY_BUDGET), what);
        DnoLossTest.assertClose(what + " loss", want.dno.loss, got.r().loss(), 1e-3, 1e-4);
        for (int n = 0; n < want.dno.logps.length; n++)
            DnoLossTest.assertClose(what + " logps[" + n + "]", want.dno.logps[n], got.r().logps()[n], 2e-3, 2e-2);
        for (int i = 0; i < want.dno.z.length; i++)
            DnoLossTest.assertClose(what + " z[" + i + "]", want.dno.z[i], got.r().z()[i], 2e-3, 2e-3);
        double t = tol(dtype);
        double floor = FusedLinearDnoLossTest.floor(dtype);
        FusedLinearDnoLossTest.assertTensorClose(what + " gradHidden", want.gradHidden, got.gradHidden(), t, floor);
        FusedLinearDnoLossTest.assertTensorClose(what + " gradWeight", want.gradWeight, got.gradWeight(), t, floor);
        if (withBias) FusedLinearDnoLossTest.assertTensorClose(what + " gradBias", want.gradBias, got.gradBias(), t, floor);
        // The GPU path against the CPU path on the same inputs.
        FusedLinearDnoLossTest.Out cpu = FusedLinearDnoLossTest.run(c, o, f, true);
        DnoLossTest.assertClose(what + " loss vs CPU", cpu.r().loss(), got.r().loss(), 1e-4, 1e-5);
        FusedLinearDnoLossTest.assertTensorClose(what + " gradHidden vs CPU", FusedLinearDnoLossTest.toDouble(cpu.gradHidden()),
                got.gradHidden(), t, 2 * floor);
        FusedLinearDnoLossTest.assertTensorClose(what + " gradWeight vs CPU", FusedLinearDnoLossTest.toDouble(cpu.gradWeight()),
                got.gradWeight(), t, 2 * floor);
    }

    /** Tiny budgets: many chunks, then every pair in two passes; the same results as one chunk. */
    @Test
    void chunkedAndTwoPassEqualUnchunked() {
        FusedCase c = new FusedCase(4, 40, 33, 517, ElementType.BFLOAT16, true, true, true,
                CaseSeed.of("CudaFusedLinearDnoLossTest.chunkedAndTwoPassEqualUnchunked"));
        DnoLossOptions o = DnoLossOptions.defaults().withAverage(true).withBeta(0.7f);
        FusedLinearDnoLossTest.Out whole = runCuda(c, o, FusedLinearOptions.defaults(), null, null, null);
        assertEquals(1, whole.r().chunks(), c + ": chunks under the default budget");
        for (long budget : new long[] {64 * 1024 + 120 * 2201, 64 * 1024 + 7 * 2201}) {
            FusedLinearDnoLossTest.Out part = runCuda(c, o, FusedLinearOptions.defaults().withMemoryBudget(budget), null, null, null);
            String what = c + " budget " + budget;
            assertTrue(part.r().chunks() > 1, what + ": expected several chunks, got " + part.r().chunks());
            DnoLossTest.assertClose(what + " loss", whole.r().loss(), part.r().loss(), 1e-6, 1e-7);
            assertArrayEquals(whole.r().logps(), part.r().logps(), 1e-5f, what);
            FusedLinearDnoLossTest.assertTensorClose(what + " gradHidden", FusedLinearDnoLossTest.toDouble(whole.gradHidden()),
                    part.gradHidden(), 1e-2);
            FusedLinearDnoLossTest.assertTensorClose(what + " gradWeight", FusedLinearDnoLossTest.toDouble(whole.gradWeight()),
                    part.gradWeight(), 1e-2);
            FusedLinearDnoLossTest.assertTensorClose(what + " gradBias", FusedLinearDnoLossTest.toDouble(whole.gradBias()),
                    part.gradBias(), 1e-2);
        }
        FusedLinearDnoLossTest.Out tiny = runCuda(c, o, FusedLinearOptions.defaults().withMemoryBudget(64 * 1024 + 7 * 2201),
                null, null, null);
        assertTrue(tiny.r().twoPassPairs() > 0, c + ": expected two-pass pairs");
    }

    @Test
    void accumulateAddsToWhatTheGradientsHold() {
        FusedLinearDnoLossTest.checkAccumulate(CudaFusedLinearDnoLossTest::runCuda);
    }

    @Test
    void bitwiseDeterministic() {
        FusedLinearDnoLossTest.checkDeterministic(CudaFusedLinearDnoLossTest::runCuda);
    }

    @Test
    void badInputRaisesWithTheRightStatus() {
        FusedCase c = new FusedCase(2, 6, 5, 13, ElementType.FLOAT32, true, false, false,
                CaseSeed.of("CudaFusedLinearDnoLossTest.badInput", "label"));
        DnoLossOptions o = DnoLossOptions.defaults();
        FusedLinearOptions f = FusedLinearOptions.defaults();
        c.labels[1 * 6 + 4] = 13;
        DnoException e = assertThrows(DnoException.class, () -> runCuda(c, o, f, null, null, null), c + " with label 13 = V");
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
        FusedLinearDnoLossTest.assertMessage(e, "labels[1,4]", "13");
        FusedCase d = new FusedCase(2, 6, 5, 13, ElementType.FLOAT32, true, false, false,
                CaseSeed.of("CudaFusedLinearDnoLossTest.badInput", "nan"));
        int row = 3 * 6 + 5;  // counted
        assertTrue(d.labels[row] != RandomCase.IGNORE, d.toString());
        d.hidden[row * 5 + 1] = Float.NaN;
        e = assertThrows(DnoException.class, () -> runCuda(d, o, f, null, null, null), d + " with a NaN hidden value");
        assertEquals(DnoException.Status.NONFINITE, e.status(), d.toString());
    }
}
