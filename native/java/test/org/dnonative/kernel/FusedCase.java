package org.dnonative.kernel;

import java.util.Random;

/**
 * A random fused-linear batch drawn from a fixed seed (see {@link CaseSeed}): hidden [N,T,H] and lm_head weight [V,H] (and bias [V])
 * rounded to the tested dtype, labels masked like {@link RandomCase} (prompt prefix, padding,
 * optionally one sequence with nothing counted), reference log-probs near the policy's own, and
 * the float64 reference of every output: logits = hidden @ W^T + b in float64, then
 * {@link ReferenceDnoLoss}, then the chain rule for gradHidden, gradWeight and gradBias.
 */
final class FusedCase {
    final LossShape shape;
    final int hiddenSize;
    final ElementType dtype;
    final long seed;
    final long ignoreIndex;                      // the label of the masked positions
    final float[] hidden, weight, bias;          // values exactly representable in dtype
    final short[] hiddenHalf, weightHalf, biasHalf;
    final long[] labels;
    final float[] ref;
    final float[] targets;

    FusedCase(int pairs, int seqLen, int hiddenSize, int vocab, ElementType dtype, boolean withBias, boolean soft,
              boolean emptySequence, long seed) {
        this(pairs, seqLen, hiddenSize, vocab, dtype, withBias, soft, emptySequence, seed, RandomCase.IGNORE);
    }

    /** Masked positions hold {@code ignoreIndex}; the float64 reference ignores exactly those. */
    FusedCase(int pairs, int seqLen, int hiddenSize, int vocab, ElementType dtype, boolean withBias, boolean soft,
              boolean emptySequence, long seed, long ignoreIndex) {
        this.shape = new LossShape(pairs, seqLen, vocab);
        this.hiddenSize = hiddenSize;
        this.dtype = dtype;
        this.seed = seed;
        this.ignoreIndex = ignoreIndex;
        Random rnd = new Random(seed);
        int n = 2 * pairs;
        hidden = new float[n * seqLen * hiddenSize];
        weight = new float[vocab * hiddenSize];
        bias = withBias ? new float[vocab] : null;
        boolean half = dtype != ElementType.FLOAT32;
        hiddenHalf = half ? new short[hidden.length] : null;
        weightHalf = half ? new short[weight.length] : null;
        biasHalf = half && withBias ? new short[vocab] : null;
        fill(rnd, hidden, hiddenHalf, 1.0);
        fill(rnd, weight, weightHalf, 2.5 / Math.sqrt(hiddenSize));
        if (withBias) fill(rnd, bias, biasHalf, 0.5);
        labels = new long[n * seqLen];
        for (int s = 0; s < n; s++) {
            int prompt = seqLen / 4, pad = (s % 2 == 1) ? seqLen / 8 : 0;
            for (int t = 0; t < seqLen; t++) {
                boolean counted = (t >= prompt && t < seqLen - pad) || seqLen == 1;
                labels[s * seqLen + t] = counted ? rnd.nextInt(vocab) : ignoreIndex;
            }
        }
        if (emptySequence) for (int t = 0; t < seqLen; t++) labels[(n - 1) * seqLen + t] = ignoreIndex;
        targets = soft ? new float[pairs] : null;
        if (soft) for (int i = 0; i < pairs; i++) targets[i] = rnd.nextFloat();
        ref = new float[n];
        double[] own = reference(0.1, false, 1).dno.logps;
        for (int s = 0; s < n; s++) ref[s] = (float) (own[s] + rnd.nextGaussian() * 5);
    }

    private void fill(Random rnd, float[] f, short[] h, double scale) {
        for (int i = 0; i < f.length; i++) {
            float v = (float) (rnd.nextGaussian() * scale);
            if (h != null) {
                h[i] = Half.to(dtype, v);
                v = Half.from(dtype, h[i]);
            }
            f[i] = v;
        }
    }

    /** float64 logits [N*T, V]. */
    double[] logits() {
        int rows = (int) shape.positions(), v = (int) shape.vocab(), h = hiddenSize;
        double[] out = new double[rows * v];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < v; j++) {
                double s = bias == null ? 0 : bias[j];
                for (int k = 0; k < h; k++) s += (double) hidden[r * h + k] * weight[j * h + k];
                out[r * v + j] = s;
            }
        return out;
    }

    static final class Reference {
        ReferenceDnoLoss dno;
        double[] gradHidden, gradWeight, gradBias;
    }

    Reference reference(double beta, boolean average, double gradScale) {
        int rows = (int) shape.positions(), v = (int) shape.vocab(), h = hiddenSize;
        double[] r = new double[ref.length];
        for (int i = 0; i < r.length; i++) r[i] = ref[i];
        double[] q = null;
        if (targets != null) {
            q = new double[targets.length];
            for (int i = 0; i < q.length; i++) q[i] = targets[i];
        }
        Reference out = new Reference();
        out.dno = new ReferenceDnoLoss((int) shape.pairs(), (int) shape.seqLen(), v, logits(), labels, r, q, beta,
                average, ignoreIndex, gradScale);
        double[] g = out.dno.grad;
        out.gradHidden = new double[rows * h];
        out.gradWeight = new double[v * h];
        out.gradBias = new double[v];
        for (int row = 0; row < rows; row++)
            for (int j = 0; j < v; j++) {
                double gv = g[row * v + j];
                if (gv == 0) continue;
                out.gradBias[j] += gv;
                for (int k = 0; k < h; k++) {
                    out.gradHidden[row * h + k] += gv * weight[j * h + k];
                    out.gradWeight[j * h + k] += gv * hidden[row * h + k];
                }
            }
        return out;
    }

    @Override
    public String toString() {
        return shape + " H=" + hiddenSize + " " + dtype + (bias != null ? " bias" : "") + (targets != null ? " soft" : " hard")
                + (ignoreIndex != RandomCase.IGNORE ? " ignoreIndex=" + ignoreIndex : "") + " seed=" + seed;
    }
}
