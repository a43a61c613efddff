package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA kernels against the CPU path and the float64 reference, on random inputs from a fixed
 * seed per case.
 * Runs on a CUDA device (benchmarks/gpu/check.sh on the GPU machine) and, in every Maven build, on
 * the CPU emulation of CUDA (see {@link GpuTestSupport}); skipped elsewhere.
 */
@Tag("gpu")
class CudaDnoLossTest {
    @BeforeAll
    static void needsGpu() {
        GpuTestSupport.needsGpu();
    }

    /** Uploads the case, runs the CUDA loss (gradient in place on the device copy), downloads. */
    static float[] runCuda(RandomCase c, DnoLossOptions o, DnoLossResult[] result) {
        long bytes = c.shape.logitElements() * c.dtype.bytes();
        try (CudaBuffer x = new CudaBuffer(bytes); CudaBuffer l = new CudaBuffer(8 * c.labels.length);
             CudaDnoLoss loss = new CudaDnoLoss(c.shape.pairs(), c.shape.seqLen())) {
            Pointer host = c.dtype == ElementType.FLOAT32 ? new FloatPointer(c.logits) : new ShortPointer(c.logitsHalf);
            x.copyFromHost(host, bytes);
            l.copyFromHost(new LongPointer(c.labels), 8L * c.labels.length);
            result[0] = loss.compute(c.shape, x.address(), c.dtype, l.address(), ElementType.INT64, c.ref, c.targets, o,
                    x.address(), 0);
            float[] g = new float[c.logits.length];
            if (c.dtype == ElementType.FLOAT32) {
                FloatPointer out = new FloatPointer(g.length);
                x.copyToHost(out, bytes);
                out.get(g);
            } else {
                ShortPointer out = new ShortPointer(g.length);
                x.copyToHost(out, bytes);
                for (int i = 0; i < g.length; i++) g[i] = Half.from(c.dtype, out.get(i));
            }
            return g;
        }
    }

    @ParameterizedTest(name = "P={0} T={1} V={2} {3} soft={4} mean={5}")
    @MethodSource("org.dnonative.kernel.DnoLossTest#cases")
    void matchesReferenceAndCpu(int p, int t, int v, ElementType dtype, boolean soft, boolean average) {
        RandomCase c = new RandomCase(p, t, v, dtype, soft, p > 1,
                CaseSeed.of("CudaDnoLossTest.matchesReferenceAndCpu", p, t, v, dtype, soft, average));
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withAverage(average).withGradScale(1.7f);
        ReferenceDnoLoss want = c.reference(0.5, average, 1.7);
        DnoLossResult[] r = new DnoLossResult[1];
        float[] grad = runCuda(c, o, r);
        DnoLossTest.assertClose(c + " loss", want.loss, r[0].loss(), 2e-5, 2e-5);
        for (int n = 0; n < r[0].logps().length; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.logps[n], r[0].logps()[n], 1e-5, average ? 1e-5 : 2e-4);
        for (int i = 0; i < p; i++) DnoLossTest.assertClose(c + " z[" + i + "]", want.z[i], r[0].z()[i], 1e-5, 5e-5);
        DnoLossTest.assertGradClose(c, want.grad, grad);
        DnoLossResult cpu = DnoLossTest.got(c, o);
        DnoLossTest.assertClose(c + " loss vs CPU", cpu.loss(), r[0].loss(), 1e-5, 1e-5);
    }

    /**
     * Gradient into its own buffer, shifted by one element so that its rows and the logits' rows
     * sit differently against 16-byte boundaries (the kernel's scalar path); the logits stay intact.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ElementType.class, names = {"FLOAT32", "BFLOAT16", "FLOAT16"})
    void outOfPlaceWithMisalignedGradient(ElementType dtype) {
        RandomCase c = new RandomCase(3, 21, 1031, dtype, true, true, CaseSeed.of("CudaDnoLossTest.outOfPlace", dtype));
        long bytes = c.shape.logitElements() * dtype.bytes();
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.3f);
        try (CudaBuffer x = new CudaBuffer(bytes); CudaBuffer g = new CudaBuffer(bytes + 16);
             CudaBuffer l = new CudaBuffer(8 * c.labels.length);
             CudaDnoLoss loss = new CudaDnoLoss(c.shape.pairs(), c.shape.seqLen())) {
            Pointer host = dtype == ElementType.FLOAT32 ? new FloatPointer(c.logits) : new ShortPointer(c.logitsHalf);
            x.copyFromHost(host, bytes);
            l.copyFromHost(new LongPointer(c.labels), 8L * c.labels.length);
            DnoLossResult r = loss.compute(c.shape, x.address(), dtype, l.address(), ElementType.INT64, c.ref, c.targets, o,
                    g.address() + dtype.bytes(), 0);
            DnoLossTest.assertClose(c + " loss", c.reference(0.3, false, 1.0).loss, r.loss(), 2e-5, 2e-5);
            float[] grad = new float[c.logits.length];
            if (dtype == ElementType.FLOAT32) {
                FloatPointer out = new FloatPointer(grad.length + 4);
                g.copyToHost(out, bytes + 16);
                out.position(1).get(grad);
            } else {
                ShortPointer out = new ShortPointer(grad.length + 8);
                g.copyToHost(out, bytes + 16);
                for (int i = 0; i < grad.length; i++) grad[i] = Half.from(dtype, out.get(i + 1));
            }
            DnoLossTest.assertGradClose(c, c.reference(0.3, false, 1.0).grad, grad);
            Pointer back = dtype == ElementType.FLOAT32 ? new FloatPointer(c.logits.length) : new ShortPointer(c.logits.length);
            x.copyToHost(back, bytes);
            for (int i = 0; i < c.logits.length; i++) {
                int bits = dtype == ElementType.FLOAT32 ? Float.floatToRawIntBits(((FloatPointer) back).get(i))
                        : ((ShortPointer) back).get(i);
                int want = dtype == ElementType.FLOAT32 ? Float.floatToRawIntBits(c.logits[i]) : c.logitsHalf[i];
                assertEquals(want, bits, c + ": logits[" + i + "] changed by an out-of-place call");
            }
        }
    }

    @Test
    void bitwiseDeterministic() {
        RandomCase c = new RandomCase(4, 64, 32001, ElementType.BFLOAT16, true, false,
                CaseSeed.of("CudaDnoLossTest.bitwiseDeterministic"));
        DnoLossResult[] a = new DnoLossResult[1], b = new DnoLossResult[1];
        float[] g1 = runCuda(c, DnoLossOptions.defaults(), a);
        float[] g2 = runCuda(c, DnoLossOptions.defaults(), b);
        assertEquals(Float.floatToRawIntBits(a[0].loss()), Float.floatToRawIntBits(b[0].loss()), c + ": loss bits");
        assertArrayEquals(a[0].logps(), b[0].logps(), c + ": logps");
        assertArrayEquals(g1, g2, c + ": grad");
    }

    @Test
    void badInputRaisesWithTheRightStatus() {
        RandomCase c = new RandomCase(2, 6, 13, ElementType.FLOAT32, false, false,
                CaseSeed.of("CudaDnoLossTest.badInput", "nan"));
        c.logits[(3 * 6 + 5) * 13 + 2] = Float.NaN;
        DnoException e = assertThrows(DnoException.class, () -> runCuda(c, DnoLossOptions.defaults(), new DnoLossResult[1]),
                c + " with a NaN logit");
        assertEquals(DnoException.Status.NONFINITE, e.status(), c.toString());
        RandomCase d = new RandomCase(2, 6, 13, ElementType.FLOAT32, false, false,
                CaseSeed.of("CudaDnoLossTest.badInput", "label"));
        d.labels[4] = 13;
        e = assertThrows(DnoException.class, () -> runCuda(d, DnoLossOptions.defaults(), new DnoLossResult[1]),
                d + " with label 13 = V");
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), d.toString());
    }
}
