package org.dnonative.kernel;


import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The CUDA fused-linear loss against the float64 reference, on fresh random inputs, whole and
 * chunked. Runs on a CUDA device, or on the CPU emulation of CUDA (see {@link GpuTestSupport}).
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

    private static Pointer host(FusedCase c, float[] f, short[] h) {
        return c.dtype == ElementType.FLOAT32 ? new FloatPointer(f) : new ShortPointer(h);
    }

    private static float[] download(FusedCase c, CudaBuffer b, int n) {
        float[] out = new float[n];
        if (c.dtype == ElementType.FLOAT32) {
            FloatPointer p = new FloatPointer(n);
            b.copyToHost(p, 4L * n);
            p.get(out);
        } else {
            ShortPointer p = new ShortPointer(n);
            b.copyToHost(p, 2L * n);
            for (int i = 0; i < n; i++) out[i] = Half.from(c.dtype, p.get(i));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} bias={1} budget={2}")
    @MethodSource("cases")
    void matchesFloat64Reference(ElementType dtype, boolean withBias, long budget) {
        FusedCase c = new FusedCase(3, 40, 64, 1031, dtype, withBias, true, true, System.nanoTime());
        int es = dtype.bytes(), nth = c.hidden.length, vh = c.weight.length, v = 1031;
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f);
        FusedCase.Reference want = c.reference(0.5, false, 1);
        try (CudaBuffer h = new CudaBuffer((long) es * nth); CudaBuffer w = new CudaBuffer((long) es * vh);
             CudaBuffer b = new CudaBuffer((long) es * v); CudaBuffer l = new CudaBuffer(8L * c.labels.length);
             CudaBuffer gh = new CudaBuffer((long) es * nth); CudaBuffer gw = new CudaBuffer((long) es * vh);
             CudaBuffer gb = new CudaBuffer((long) es * v); CudaFusedLinearDnoLoss loss = new CudaFusedLinearDnoLoss(3)) {
            h.copyFromHost(host(c, c.hidden, c.hiddenHalf), (long) es * nth);
            w.copyFromHost(host(c, c.weight, c.weightHalf), (long) es * vh);
            if (withBias) b.copyFromHost(host(c, c.bias, c.biasHalf), (long) es * v);
            l.copyFromHost(new LongPointer(c.labels), 8L * c.labels.length);
            FusedLinearResult stats = loss.enqueue(c.shape, 64, dtype, h.address(), w.address(),
                    withBias ? b.address() : 0, l.address(), ElementType.INT64, c.ref, c.targets, o,
                    FusedLinearOptions.defaults().withMemoryBudget(budget), gh.address(), gw.address(),
                    withBias ? gb.address() : 0, 0);
            DnoLossResult r = loss.result(0);
            double t = FusedLinearDnoLossTest.tol(dtype) * (dtype == ElementType.FLOAT32 ? 50 : 2);  // TF32-free, but other sums
            DnoLossTest.assertClose(c + " loss (" + stats.chunks() + " chunks)", want.dno.loss, r.loss(), 1e-3, 1e-4);
            FusedLinearDnoLossTest.assertTensorClose(c + " gradHidden", want.gradHidden, download(c, gh, nth), t);
            FusedLinearDnoLossTest.assertTensorClose(c + " gradWeight", want.gradWeight, download(c, gw, vh), t);
            if (withBias) FusedLinearDnoLossTest.assertTensorClose(c + " gradBias", want.gradBias, download(c, gb, v), t);
        }
    }
}
