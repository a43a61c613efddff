package org.example.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.dnonative.kernel.DnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.kernel.LossShape;
import org.junit.jupiter.api.Test;

/**
 * What a trainer that links only dno-native-kernels gets: the loss and its gradient on host
 * arrays, checked against a few lines of float64 math, and no libtorch on its class path.
 */
class KernelsOnlyTest {
    static final long SEED = 7;

    @Test
    void libtorchIsNotOnTheClassPath() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.bytedeco.pytorch.Tensor"));
    }

    @Test
    void lossAndGradientOnHostArraysMatchFloat64Math() {
        final int p = 2, t = 3, v = 5, n = 2 * p;
        final float beta = 0.1f;
        SplittableRandom rnd = new SplittableRandom(SEED);
        float[] logits = new float[n * t * v];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian();
        long[] labels = new long[n * t];
        for (int i = 0; i < labels.length; i++) labels[i] = rnd.nextInt(v);
        labels[1] = -100;  // an ignored position: no log-prob, zero gradient
        float[] ref = {-4.5f, -5.0f, -4.0f, -6.0f};

        float[] grad = new float[logits.length];
        DnoLossResult r = DnoLoss.compute(new LossShape(p, t, v), logits, labels, ref, null,
                DnoLossOptions.defaults().withBeta(beta), grad);

        // s_n = sum_t log softmax(logits[n,t])[label]; z_i = beta((s_i - ref_i) - (s_{i+P} - ref_{i+P}));
        // loss = mean_i log(1 + e^{-z_i}); d loss / d logits[n,t,:] = c_n (onehot - softmax).
        double[] s = new double[n];
        double[][] softmax = new double[n * t][v];
        for (int row = 0; row < n * t; row++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int k = 0; k < v; k++) max = Math.max(max, logits[row * v + k]);
            for (int k = 0; k < v; k++) sum += Math.exp(logits[row * v + k] - max);
            for (int k = 0; k < v; k++) softmax[row][k] = Math.exp(logits[row * v + k] - max) / sum;
            if (labels[row] != -100) s[row / t] += Math.log(softmax[row][(int) labels[row]]);
        }
        double loss = 0;
        double[] coef = new double[n];
        for (int i = 0; i < p; i++) {
            double z = beta * ((s[i] - ref[i]) - (s[i + p] - ref[i + p]));
            assertEquals(z, r.z()[i], 1e-5, "z[" + i + "], seed " + SEED);
            loss += Math.log1p(Math.exp(-z)) / p;
            double dz = (1 / (1 + Math.exp(-z)) - 1) * beta / p;
            coef[i] = dz;
            coef[i + p] = -dz;
        }
        assertEquals(loss, r.loss(), 1e-6, "loss, seed " + SEED);
        for (int k = 0; k < n; k++) assertEquals(s[k], r.logps()[k], 1e-5, "logps[" + k + "], seed " + SEED);
        for (int row = 0; row < n * t; row++)
            for (int k = 0; k < v; k++) {
                double want = labels[row] == -100 ? 0 : coef[row / t] * ((k == labels[row] ? 1 : 0) - softmax[row][k]);
                assertEquals(want, grad[row * v + k], 1e-7, "grad[" + row + "," + k + "], seed " + SEED);
            }
        assertTrue(java.util.List.of("baseline", "avx2", "avx512").contains(DnoLoss.cpuKernels()));
    }
}
