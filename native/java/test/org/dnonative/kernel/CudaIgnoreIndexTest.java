package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link IgnoreIndexTest} for the CUDA losses: a non-default ignore index against the float64
 * reference and the CPU path, and a label of -100 under ignore index -1 refused. The logits loss
 * finds bad labels on the device, where only a status flag comes back (no position), and then
 * writes no gradient; the fused-linear loss plans its chunks from the labels on the host, so it
 * names the position. Runs on a CUDA device or the CPU emulation of CUDA ({@link GpuTestSupport}).
 */
@Tag("gpu")
class CudaIgnoreIndexTest {
    @BeforeAll
    static void needsGpu() {
        GpuTestSupport.needsGpu();
    }

    @ParameterizedTest(name = "ignoreIndex={0} {1}")
    @MethodSource("org.dnonative.kernel.IgnoreIndexTest#cases")
    void logitsLossMatchesTheReferenceAndCpu(long ignoreIndex, ElementType dtype) {
        RandomCase c = IgnoreIndexTest.logitsCase("CudaIgnoreIndexTest.logits", ignoreIndex, dtype);
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withIgnoreIndex(ignoreIndex);
        ReferenceDnoLoss want = c.reference(0.5, false, 1);
        DnoLossResult[] r = new DnoLossResult[1];
        float[] grad = CudaDnoLossTest.runCuda(c, o, r);
        DnoLossTest.assertClose(c + " loss", want.loss, r[0].loss(), 2e-5, 2e-5);
        for (int n = 0; n < 2 * IgnoreIndexTest.P; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.logps[n], r[0].logps()[n], 1e-5, 2e-4);
        DnoLossTest.assertGradClose(c, want.grad, grad);
        int v = IgnoreIndexTest.V;
        for (int row = 0; row < c.labels.length; row++)
            if (c.labels[row] == ignoreIndex)
                for (int k = 0; k < v; k++)
                    if (grad[row * v + k] != 0f) fail(c + ": grad of ignored row " + row + " is not 0");
        DnoLossTest.assertClose(c + " loss vs CPU", DnoLossTest.got(c, o).loss(), r[0].loss(), 1e-5, 1e-5);
    }

    @ParameterizedTest(name = "ignoreIndex={0} {1}")
    @MethodSource("org.dnonative.kernel.IgnoreIndexTest#cases")
    void fusedLossMatchesTheReferenceAndCpu(long ignoreIndex, ElementType dtype) {
        FusedCase c = IgnoreIndexTest.fusedCase("CudaIgnoreIndexTest.fused", ignoreIndex, dtype);
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withIgnoreIndex(ignoreIndex);
        FusedCase.Reference want = c.reference(0.5, false, 1);
        FusedLinearDnoLossTest.Out got = CudaFusedLinearDnoLossTest.runCuda(c, o, FusedLinearOptions.defaults(), null,
                null, null);
        DnoLossTest.assertClose(c + " loss", want.dno.loss, got.r().loss(), 1e-3, 1e-4);
        for (int n = 0; n < want.dno.logps.length; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.dno.logps[n], got.r().logps()[n], 2e-3, 2e-2);
        double tol = CudaFusedLinearDnoLossTest.tol(dtype), floor = FusedLinearDnoLossTest.floor(dtype);
        FusedLinearDnoLossTest.assertTensorClose(c + " gradHidden", want.gradHidden, got.gradHidden(), tol, floor);
        FusedLinearDnoLossTest.assertTensorClose(c + " gradWeight", want.gradWeight, got.gradWeight(), tol, floor);
        FusedLinearDnoLossTest.assertTensorClose(c + " gradBias", want.gradBias, got.gradBias(), tol, floor);
        int h = IgnoreIndexTest.H;
        for (int row = 0; row < c.labels.length; row++)
            if (c.labels[row] == ignoreIndex)
                for (int k = 0; k < h; k++)
                    if (got.gradHidden()[row * h + k] != 0f) fail(c + ": gradHidden of ignored row " + row + " is not 0");
        FusedLinearDnoLossTest.Out cpu = FusedLinearDnoLossTest.run(c, o, FusedLinearOptions.defaults(), true);
        DnoLossTest.assertClose(c + " loss vs CPU", cpu.r().loss(), got.r().loss(), 1e-4, 1e-5);
    }

    @Test
    void logitsLossRefusesTheDefaultIndexUnderIgnoreIndexMinusOneAndLeavesLogitsIntact() {
        RandomCase c = IgnoreIndexTest.logitsCase("CudaIgnoreIndexTest.defaultIsOutOfRange", -1, ElementType.FLOAT32);
        c.labels[IgnoreIndexTest.BAD_ROW] = DnoLossOptions.DEFAULT_IGNORE_INDEX;
        DnoLossOptions o = DnoLossOptions.defaults().withIgnoreIndex(-1);
        long bytes = 4L * c.logits.length;
        try (CudaBuffer x = new CudaBuffer(bytes); CudaBuffer l = new CudaBuffer(8L * c.labels.length);
             CudaDnoLoss loss = new CudaDnoLoss(c.shape.pairs(), c.shape.seqLen());
             FloatPointer host = new FloatPointer(c.logits); LongPointer labels = new LongPointer(c.labels);
             FloatPointer back = new FloatPointer(c.logits.length)) {
            x.copyFromHost(host, bytes);
            l.copyFromHost(labels, 8L * c.labels.length);
            DnoException e = assertThrows(DnoException.class, () -> loss.compute(c.shape, x.address(), ElementType.FLOAT32,
                    l.address(), ElementType.INT64, c.ref, c.targets, o, x.address(), 0), c + " with label -100 at [1,5]");
            assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
            FusedLinearDnoLossTest.assertMessage(e, "label", "ignore index");
            x.copyToHost(back, bytes);
            float[] after = new float[c.logits.length];
            back.get(after);
            assertArrayEquals(c.logits, after, c + ": in-place logits must be untouched after a failure");
        }
    }

    @Test
    void fusedLossRefusesTheDefaultIndexUnderIgnoreIndexMinusOneNamingThePosition() {
        FusedCase c = IgnoreIndexTest.fusedCase("CudaIgnoreIndexTest.fusedDefaultIsOutOfRange", -1, ElementType.FLOAT32);
        c.labels[IgnoreIndexTest.BAD_ROW] = DnoLossOptions.DEFAULT_IGNORE_INDEX;
        DnoLossOptions o = DnoLossOptions.defaults().withIgnoreIndex(-1);
        DnoException e = assertThrows(DnoException.class, () -> CudaFusedLinearDnoLossTest.runCuda(c, o,
                FusedLinearOptions.defaults(), null, null, null), c + " with label -100 at [1,5]");
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
        FusedLinearDnoLossTest.assertMessage(e, "labels[1,5]", "-100", "ignore index -1");
    }
}
