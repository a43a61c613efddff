package org.dnonative.kernel;

/**
 * An independent float64 implementation of the DNO loss, written from the formula in
 * native/include/dno_loss.h with plain loops (two-pass softmax, no shared code with the kernel).
 */
public final class ReferenceDnoLoss {
    public final double loss;
    public final double[] logps;
    public final double[] z;
    public final double[] chosenRewards;
    public final double[] rejectedRewards;
    public final double[] grad;  // d loss / d logits times gradScale

    public ReferenceDnoLoss(int pairs, int seqLen, int vocab, double[] logits, long[] labels, double[] ref,
                     double[] targets, double beta, boolean average, long ignoreIndex, double gradScale) {
        int n = 2 * pairs;
        logps = new double[n];
        int[] counts = new int[n];
        double[][] softmax = new double[n * seqLen][];
        for (int s = 0; s < n; s++) {
            for (int t = 0; t < seqLen; t++) {
                int row = s * seqLen + t;
                if (labels[row] == ignoreIndex) continue;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[row * vocab + v]);
                double sum = 0;
                for (int v = 0; v < vocab; v++) sum += Math.exp(logits[row * vocab + v] - max);
                double lse = max + Math.log(sum);
                double[] p = new double[vocab];
                for (int v = 0; v < vocab; v++) p[v] = Math.exp(logits[row * vocab + v] - lse);
                softmax[row] = p;
                logps[s] += logits[row * vocab + (int) labels[row]] - lse;
                counts[s]++;
            }
            if (average) logps[s] = counts[s] > 0 ? logps[s] / counts[s] : 0;
        }
        z = new double[pairs];
        chosenRewards = new double[pairs];
        rejectedRewards = new double[pairs];
        double[] dlogp = new double[n];
        double total = 0;
        for (int i = 0; i < pairs; i++) {
            double q = targets == null ? 1 : targets[i];
            chosenRewards[i] = beta * (logps[i] - ref[i]);
            rejectedRewards[i] = beta * (logps[i + pairs] - ref[i + pairs]);
            z[i] = chosenRewards[i] - rejectedRewards[i];
            total += -q * logSigmoid(z[i]) - (1 - q) * logSigmoid(-z[i]);
            double dz = (sigmoid(z[i]) - q) / pairs * gradScale;
            dlogp[i] = dz * beta;
            dlogp[i + pairs] = -dz * beta;
        }
        loss = total / pairs;
        grad = new double[logits.length];
        for (int s = 0; s < n; s++) {
            double scale = average ? (counts[s] > 0 ? dlogp[s] / counts[s] : 0) : dlogp[s];
            for (int t = 0; t < seqLen; t++) {
                int row = s * seqLen + t;
                if (softmax[row] == null) continue;
                for (int v = 0; v < vocab; v++)
                    grad[row * vocab + v] = scale * ((v == labels[row] ? 1 : 0) - softmax[row][v]);
            }
        }
    }

    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
