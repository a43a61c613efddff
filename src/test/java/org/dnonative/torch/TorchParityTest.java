package org.dnonative.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The kernel through the Tensor adapter against the same loss written with libtorch autograd. */
class TorchParityTest {

    static Tensor floats(float[] data, long... shape) {
        return torch.from_blob(new FloatPointer(data), shape).clone();
    }

    static Tensor longs(long[] data, long... shape) {
        return torch.from_blob(new LongPointer(data), shape, new org.bytedeco.pytorch.TensorOptions(ScalarType.Long)).clone();
    }

    static float[] values(Tensor t) {
        Tensor c = t.detach().to(ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        new FloatPointer(c.data_ptr()).capacity(out.length).get(out);
        return out;
    }

    @ParameterizedTest(name = "{0} P={1} T={2} V={3} soft={4} mean={5} seed={6}")
    @CsvSource({
        "Float, 3, 47, 1031, false, false, 201",
        "Float, 2, 19, 4099, true, true, 202",
        "BFloat16, 3, 47, 1031, true, false, 203",
        "Half, 2, 31, 517, false, true, 204",
    })
    void matchesAutograd(String dtype, int p, int t, int v, boolean soft, boolean average, long seed) {
        Random rnd = new Random(seed);
        int n = 2 * p;
        float[] x = new float[n * t * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 2.5);
        long[] labels = new long[n * t];
        for (int s = 0; s < n; s++)
            for (int j = 0; j < t; j++)
                labels[s * t + j] = j < t / 4 || (s % 2 == 1 && j >= t - t / 8) ? -100 : rnd.nextInt(v);
        float[] ref = new float[n];
        for (int s = 0; s < n; s++) ref[s] = (float) (-2.0 * t + rnd.nextGaussian() * 5);
        float[] q = new float[p];
        for (int i = 0; i < p; i++) q[i] = rnd.nextFloat();

        ScalarType st = ScalarType.valueOf(dtype);
        Tensor logits = floats(x, n, t, v).to(st);
        Tensor lab = longs(labels, n, t);
        Tensor refT = floats(ref, n);
        Tensor qT = soft ? floats(q, p) : null;
        double beta = 0.1;

        // libtorch autograd
        Tensor leaf = logits.detach().clone();
        leaf.requires_grad_(true);
        Tensor loss = TorchDnoReference.loss(leaf, lab, refT, qT, beta, -100, average);
        loss.backward();
        float[] wantGrad = values(leaf.grad());
        double wantLoss = loss.item_double();

        // ours, in place on a copy of the logits
        Tensor mine = logits.clone();
        DnoLossResult r = TorchDnoLoss.computeCpu(mine, lab, refT, qT,
                DnoLossOptions.defaults().withBeta((float) beta).withAverage(average), mine);
        float[] gotGrad = values(mine);

        String ctx = dtype + " seed=" + seed;
        assertEquals(wantLoss, r.loss(), 5e-5 + 5e-5 * Math.abs(wantLoss), ctx + " loss");  // libtorch sums in float32
        double rtol = st == ScalarType.Float ? 1e-4 : st == ScalarType.BFloat16 ? 1.6e-2 : 3e-3;
        double max = 0;
        for (float g : wantGrad) max = Math.max(max, Math.abs(g));
        // Both sides round to the output dtype: float16 gradients below 6e-5 are subnormal, where one
        // rounding step is 6e-8 absolute, so allow two of them on top of the relative tolerance.
        double atol = 1e-5 * max + (st == ScalarType.Half ? 1.2e-7 : 0);
        int bad = 0;
        for (int i = 0; i < wantGrad.length; i++)
            if (!(Math.abs(gotGrad[i] - wantGrad[i]) <= atol + rtol * Math.abs(wantGrad[i])) && bad++ < 3)
                System.err.println(ctx + " grad[" + i + "] want " + wantGrad[i] + " got " + gotGrad[i]);
        if (bad > 0) fail(ctx + ": " + bad + " gradient mismatches");
    }

    @Test
    void adapterChecksNameTheTensor() {
        Tensor logits = torch.randn(4, 5, 7);
        Tensor labels = torch.zeros(new long[] {4, 5}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Long));
        Tensor ref = torch.zeros(4);
        DnoLossOptions o = DnoLossOptions.defaults();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchDnoLoss.computeCpu(torch.randn(3, 5, 7), labels, ref, null, o, null));
        assertTrue(e.getMessage().contains("even"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TorchDnoLoss.computeCpu(logits, labels.to(ScalarType.Float), ref, null, o, null));
        assertTrue(e.getMessage().contains("labels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TorchDnoLoss.computeCpu(torch.randn(4, 7, 5).transpose(1, 2), labels, ref, null, o, null));
        assertTrue(e.getMessage().contains("logits must be contiguous"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TorchDnoLoss.computeCpu(logits, labels, torch.zeros(3), null, o, null));
        assertTrue(e.getMessage().contains("refLogps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TorchDnoLoss.computeCpu(logits, labels, ref, null, o, torch.randn(4, 5, 7).to(ScalarType.Half)));
        assertTrue(e.getMessage().contains("grad"), e.getMessage());
        // and it still works with good tensors
        assertTrue(Float.isFinite(TorchDnoLoss.computeCpu(logits, labels, ref, null, o, null).loss()));
    }
}
