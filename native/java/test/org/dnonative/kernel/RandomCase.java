package org.dnonative.kernel;

import java.util.Random;

/**
 * A random DNO loss batch drawn from a fixed seed (see {@link CaseSeed}): logits rounded to the
 * tested dtype, a prompt prefix and padding suffix masked with the ignore index, optionally one
 * sequence with nothing counted, and reference log-probs near the policy's own so that z is O(1)
 * and every gradient matters.
 */
final class RandomCase {
    static final long IGNORE = DnoLossOptions.DEFAULT_IGNORE_INDEX;

    final LossShape shape;
    final ElementType dtype;
    final long seed;
    final long ignoreIndex;     // the label of the masked positions
    final float[] logits;       // values exactly representable in dtype
    final short[] logitsHalf;   // raw 16-bit patterns when dtype is 16-bit
    final long[] labels;
    final float[] ref;
    final float[] targets;      // null for hard targets

    RandomCase(int pairs, int seqLen, int vocab, ElementType dtype, boolean softTargets, boolean emptySequence, long seed) {
        this(pairs, seqLen, vocab, dtype, softTargets, emptySequence, seed, IGNORE);
    }

    /** Masked positions hold {@code ignoreIndex}; the float64 reference ignores exactly those. */
    RandomCase(int pairs, int seqLen, int vocab, ElementType dtype, boolean softTargets, boolean emptySequence, long seed,
               long ignoreIndex) {
        this.shape = new LossShape(pairs, seqLen, vocab);
        this.dtype = dtype;
        this.seed = seed;
        this.ignoreIndex = ignoreIndex;
        Random rnd = new Random(seed);
        int n = 2 * pairs;
        logits = new float[n * seqLen * vocab];
        logitsHalf = dtype == ElementType.FLOAT32 ? null : new short[logits.length];
        for (int i = 0; i < logits.length; i++) {
            float v = (float) (rnd.nextGaussian() * 2.5);
            if (dtype != ElementType.FLOAT32) {
                logitsHalf[i] = Half.to(dtype, v);
                v = Half.from(dtype, logitsHalf[i]);
            }
            logits[i] = v;
        }
        labels = new long[n * seqLen];
        for (int s = 0; s < n; s++) {
            int prompt = seqLen / 4;
            int pad = (s % 2 == 1) ? seqLen / 8 : 0;
            for (int t = 0; t < seqLen; t++) {
                boolean counted = t >= prompt && t < seqLen - pad;
                if (seqLen == 1) counted = true;
                labels[s * seqLen + t] = counted ? rnd.nextInt(vocab) : ignoreIndex;
            }
        }
        if (emptySequence) for (int t = 0; t < seqLen; t++) labels[(n - 1) * seqLen + t] = ignoreIndex;
        targets = softTargets ? new float[pairs] : null;
        if (softTargets) for (int i = 0; i < pairs; i++) targets[i] = rnd.nextFloat();
        ref = new float[n];
        double[] own = reference(0.1, false, new double[n]).logps;
        for (int s = 0; s < n; s++) ref[s] = (float) (own[s] + rnd.nextGaussian() * 5);
    }

    double[] logitsAsDouble() {
        double[] d = new double[logits.length];
        for (int i = 0; i < d.length; i++) d[i] = logits[i];
        return d;
    }

    ReferenceDnoLoss reference(double beta, boolean average, double gradScale) {
        double[] r = new double[ref.length];
        for (int i = 0; i < r.length; i++) r[i] = ref[i];
        return reference(beta, average, r, gradScale);
    }

    private ReferenceDnoLoss reference(double beta, boolean average, double[] r) {
        return reference(beta, average, r, 1);
    }

    private ReferenceDnoLoss reference(double beta, boolean average, double[] r, double gradScale) {
        double[] q = null;
        if (targets != null) {
            q = new double[targets.length];
            for (int i = 0; i < q.length; i++) q[i] = targets[i];
        }
        return new ReferenceDnoLoss((int) shape.pairs(), (int) shape.seqLen(), (int) shape.vocab(), logitsAsDouble(),
                labels, r, q, beta, average, ignoreIndex, gradScale);
    }

    int[] labelsInt() {
        int[] a = new int[labels.length];
        for (int i = 0; i < a.length; i++) a[i] = (int) labels[i];
        return a;
    }

    @Override
    public String toString() {
        return shape + " " + dtype + (targets != null ? " soft" : " hard")
                + (ignoreIndex != IGNORE ? " ignoreIndex=" + ignoreIndex : "") + " seed=" + seed;
    }
}
