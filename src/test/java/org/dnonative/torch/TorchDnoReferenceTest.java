package org.dnonative.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.bytedeco.pytorch.Tensor;
import org.dnonative.kernel.ReferenceDnoLoss;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The libtorch reference (the LIBTORCH training loss) against the float64 reference of the
 * kernels' tests: per-sequence log-probs, per-pair margins, the loss and its logits gradient.
 */
class TorchDnoReferenceTest {

    @ParameterizedTest(name = "P={0} T={1} V={2} soft={3} mean={4} seed={5}")
    @CsvSource({
        "3, 17, 101, false, false, 301",
        "2, 9, 263, true, false, 302",
        "4, 12, 57, true, true, 303",
    })
    void matchesTheFloat64Reference(int p, int t, int v, boolean soft, boolean average, long seed) {
        Random rnd = new Random(seed);
        int n = 2 * p;
        float[] x = new float[n * t * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 2);
        long[] labels = new long[n * t];
        for (int s = 0; s < n; s++)
            for (int j = 0; j < t; j++) labels[s * t + j] = j < t / 3 || (s == n - 1 && j == t - 1) ? -100 : rnd.nextInt(v);
        float[] ref = new float[n];
        for (int s = 0; s < n; s++) ref[s] = (float) (-Math.log(v) * (average ? 1 : t * 2 / 3.0) + rnd.nextGaussian() * 4);
        float[] q = new float[p];
        for (int i = 0; i < p; i++) q[i] = rnd.nextFloat();
        double beta = 0.5;
        String ctx = "seed=" + seed;

        ReferenceDnoLoss want = new ReferenceDnoLoss(p, t, v, widen(x), labels, widen(ref), soft ? widen(q) : null, beta,
                average, -100, 1.0);

        Tensor logits = TorchParityTest.floats(x, n, t, v);
        logits.requires_grad_(true);
        Tensor lab = TorchParityTest.longs(labels, n, t);
        Tensor refT = TorchParityTest.floats(ref, n);
        Tensor seq = TorchDnoReference.sequenceLogprobs(logits, lab, -100, average);
        Tensor z = TorchDnoReference.margins(seq, refT, beta);
        Tensor loss = TorchDnoReference.pairLoss(z, soft ? TorchParityTest.floats(q, p) : null);
        loss.backward();

        float[] gotSeq = TorchParityTest.values(seq), gotZ = TorchParityTest.values(z), gotGrad = TorchParityTest.values(logits.grad());
        for (int s = 0; s < n; s++) assertEquals(want.logps[s], gotSeq[s], 1e-4 * (1 + Math.abs(want.logps[s])), ctx + " logp[" + s + "]");
        for (int i = 0; i < p; i++) assertEquals(want.z[i], gotZ[i], 1e-4 * (1 + Math.abs(want.z[i])), ctx + " z[" + i + "]");
        assertEquals(want.loss, loss.item_double(), 1e-5 * (1 + want.loss), ctx + " loss");
        double max = 0;
        for (double g : want.grad) max = Math.max(max, Math.abs(g));
        for (int i = 0; i < gotGrad.length; i++) assertEquals(want.grad[i], gotGrad[i], 1e-4 * max, ctx + " grad[" + i + "]");
        // the composition the benchmarks and parity tests call is these three pieces
        Tensor whole = TorchDnoReference.loss(logits.detach(), lab, refT, soft ? TorchParityTest.floats(q, p) : null, beta, -100, average);
        assertEquals(loss.item_double(), whole.item_double(), 0.0, ctx + " loss() = pairLoss(margins(sequenceLogprobs))");
    }

    static double[] widen(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}
