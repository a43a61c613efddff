package org.dnonative.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.FusedLinearOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused lm_head + DNO loss through the Tensor adapter against libtorch autograd of
 * matmul + log_softmax + gather + pairwise loss, computed in float32 on the same (rounded) inputs.
 */
class TorchFusedParityTest {

    @ParameterizedTest(name = "{0} P={1} T={2} H={3} V={4} bias={5} soft={6} seed={7}")
    @CsvSource({
        "Float, 3, 13, 37, 1031, false, false, 101, BLAS",
        "Float, 2, 9, 64, 517, true, true, 102, BLAS",
        "BFloat16, 3, 13, 37, 1031, true, false, 103, BLAS",
        "Half, 2, 11, 33, 257, false, true, 104, BLAS",
        "Float, 3, 13, 37, 1031, false, false, 105, AMX",
        "Float, 2, 9, 64, 1031, true, true, 106, AMX",
        "BFloat16, 3, 13, 37, 1031, true, false, 107, AMX",
    })
    void matchesAutograd(String dtype, int p, int t, int h, int v, boolean withBias, boolean soft, long seed,
                         FusedLinearOptions.Gemm gemm) {
        if (gemm == FusedLinearOptions.Gemm.AMX)
            org.junit.jupiter.api.Assumptions.assumeTrue(org.dnonative.kernel.AmxLinear.available(),
                    org.dnonative.kernel.AmxLinear::whyNotAvailable);
        Random rnd = new Random(seed);
        int n = 2 * p;
        float[] hs = gaussian(rnd, n * t * h, 1.0), ws = gaussian(rnd, v * h, 0.3), bs = gaussian(rnd, v, 0.5);
        long[] labels = new long[n * t];
        for (int s = 0; s < n; s++)
            for (int j = 0; j < t; j++) labels[s * t + j] = j < t / 4 ? -100 : rnd.nextInt(v);
        float[] ref = gaussian(rnd, n, 3.0);
        for (int s = 0; s < n; s++) ref[s] -= 5f * t;
        float[] q = new float[p];
        for (int i = 0; i < p; i++) q[i] = rnd.nextFloat();
        ScalarType st = ScalarType.valueOf(dtype);

        Tensor hidden = TorchParityTest.floats(hs, n, t, h).to(st);
        Tensor weight = TorchParityTest.floats(ws, v, h).to(st);
        Tensor bias = withBias ? TorchParityTest.floats(bs, v).to(st) : null;
        Tensor lab = TorchParityTest.longs(labels, n, t);
        Tensor refT = TorchParityTest.floats(ref, n);
        Tensor qT = soft ? TorchParityTest.floats(q, p) : null;

        // autograd in float32 on the rounded inputs
        Tensor h32 = hidden.to(ScalarType.Float).detach().clone(), w32 = weight.to(ScalarType.Float).detach().clone();
        h32.requires_grad_(true);
        w32.requires_grad_(true);
        Tensor b32 = null;
        Tensor logits = h32.matmul(w32.t());
        if (withBias) {
            b32 = bias.to(ScalarType.Float).detach().clone();
            b32.requires_grad_(true);
            logits = logits.add(b32);
        }
        Tensor loss = TorchDnoReference.loss(logits, lab, refT, qT, 0.1, -100, false);
        loss.backward();

        try (TorchFusedLinearDnoLoss k = new TorchFusedLinearDnoLoss()) {
            TorchFusedLinearDnoLoss.Output out = k.compute(hidden, weight, bias, lab, refT, qT, DnoLossOptions.defaults(),
                    FusedLinearOptions.defaults().withMemoryBudget(64 << 10).withGemm(gemm));  // force several chunks
            String ctx = dtype + " " + gemm + " seed=" + seed;
            assertEquals(loss.item_double(), out.result().loss(), 2e-5 + 2e-5 * Math.abs(loss.item_double()), ctx + " loss");
            double rtol = st == ScalarType.Float ? 1e-3 : st == ScalarType.BFloat16 ? 2e-2 : 4e-3;
            compare(ctx + " grad_hidden", h32.grad(), out.gradHidden(), rtol);
            compare(ctx + " grad_weight", w32.grad(), out.gradWeight(), rtol);
            if (withBias) compare(ctx + " grad_bias", b32.grad(), out.gradBias(), rtol);
        }
    }

    /** Elementwise within rtol of the value plus rtol of the largest magnitude (16-bit outputs round). */
    static void compare(String what, Tensor want, Tensor got, double rtol) {
        float[] a = TorchParityTest.values(want), b = TorchParityTest.values(got);
        double max = 0;
        for (float x : a) max = Math.max(max, Math.abs(x));
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.length; i++)
            if (!(Math.abs(a[i] - b[i]) <= rtol * (Math.abs(a[i]) + 0.05 * max)) && bad++ < 3)
                sb.append("\n  [").append(i).append("] want ").append(a[i]).append(" got ").append(b[i]);
        if (bad > 0) fail(what + ": " + bad + " of " + a.length + " differ" + sb);
    }

    static float[] gaussian(Random rnd, int count, double scale) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float) (rnd.nextGaussian() * scale);
        return x;
    }

    @Test
    void adapterChecksNameTheTensor() {
        Tensor hidden = torch.randn(4, 5, 8), weight = torch.randn(11, 8);
        Tensor labels = torch.zeros(new long[] {4, 5}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Long));
        Tensor ref = torch.zeros(4);
        try (TorchFusedLinearDnoLoss k = new TorchFusedLinearDnoLoss()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.compute(hidden,
                    torch.randn(11, 7), null, labels, ref, null, DnoLossOptions.defaults(), FusedLinearOptions.defaults()));
            assertEquals(true, e.getMessage().contains("weight"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> k.compute(hidden, weight.to(ScalarType.Half), null,
                    labels, ref, null, DnoLossOptions.defaults(), FusedLinearOptions.defaults()));
            assertEquals(true, e.getMessage().contains("dtype"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> k.compute(hidden, weight, torch.randn(3), labels, ref,
                    null, DnoLossOptions.defaults(), FusedLinearOptions.defaults()));
            assertEquals(true, e.getMessage().contains("bias"), e.getMessage());
        }
    }
}
