package org.dnonative.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.ReferenceDnoLoss;
import org.dnonative.model.CausalLM;
import org.dnonative.model.ModelConfig;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Tensors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Test data for the training path, all drawn from one seed: a tiny random policy, random pairs of
 * responses of different lengths to random prompts, reference log-probs placed so that every
 * pair's margin z is clearly away from 0 (so that the accuracy is not decided by rounding), and
 * soft targets. Failure messages carry {@link #context()}, with the seed.
 */
final class TinyPairs {
    static final Device CPU = new Device(torch.DeviceType.CPU);
    static final int VOCAB = 61;
    static final double BETA = 0.25;  // exact in float32: the kernels take beta as a float

    final long seed;
    final boolean tied;
    final int pairs;
    final List<int[]> prompts = new ArrayList<>(), chosen = new ArrayList<>(), rejected = new ArrayList<>();
    final float[] refChosen, refRejected, softTargets;

    /** A Llama with tied embeddings, or a Qwen2 (attention biases) with its own lm_head. */
    static ModelConfig config(boolean tied) {
        return tied
                ? ModelConfig.of(ModelConfig.Architecture.LLAMA, VOCAB, 32, 48, 2, 4, 2, 64, true, null, 1, 0)
                : ModelConfig.of(ModelConfig.Architecture.QWEN2, VOCAB, 32, 48, 2, 4, 2, 64, false, null, 1, 0);
    }

    TinyPairs(long seed, boolean tied, int pairs) {
        this.seed = seed;
        this.tied = tied;
        this.pairs = pairs;
        Random rnd = new Random(seed);
        for (int i = 0; i < pairs; i++) {
            prompts.add(tokens(rnd, 2 + rnd.nextInt(5)));
            chosen.add(tokens(rnd, 1 + rnd.nextInt(5)));
            rejected.add(tokens(rnd, 1 + rnd.nextInt(5)));
        }
        double[] offset = new double[pairs];
        double[] shift = new double[pairs];
        softTargets = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            offset[i] = (rnd.nextBoolean() ? 1 : -1) * (1 + 4 * rnd.nextDouble());  // z = BETA * offset, |z| in [0.25, 1.25]
            shift[i] = 3 * rnd.nextGaussian();
            softTargets[i] = rnd.nextFloat();
        }
        refChosen = new float[pairs];
        refRejected = new float[pairs];
        try (CausalLM m = model()) {
            Scorer scorer = new Scorer(m, 0, 4096);
            double[] c = scorer.score(prompts, chosen).stream().mapToDouble(s -> s.logprob()).toArray();
            double[] r = scorer.score(prompts, rejected).stream().mapToDouble(s -> s.logprob()).toArray();
            for (int i = 0; i < pairs; i++) {
                refChosen[i] = (float) (c[i] + shift[i]);
                refRejected[i] = (float) (r[i] + shift[i] + offset[i]);
            }
        }
    }

    private static int[] tokens(Random rnd, int length) {
        int[] t = new int[length];
        for (int i = 0; i < length; i++) t[i] = 2 + rnd.nextInt(VOCAB - 2);
        return t;
    }

    String context() {
        return "seed=" + seed + (tied ? " llama/tied" : " qwen2/untied");
    }

    /** A fresh copy of the policy: the same weights for the same seed. */
    CausalLM model() {
        return CausalLM.random(config(tied), seed, CPU);
    }

    /** Pairs [from, to) as one batch: their prompts twice, the chosen responses, then the rejected ones. */
    SequenceBatch batch(int from, int to) {
        List<int[]> ps = new ArrayList<>(prompts.subList(from, to));
        ps.addAll(prompts.subList(from, to));
        List<int[]> rs = new ArrayList<>(chosen.subList(from, to));
        rs.addAll(rejected.subList(from, to));
        return new SequenceBatch(ps, rs, 0, CPU);
    }

    /** Reference log-probs of pairs [from, to): chosen, then rejected. */
    float[] ref(int from, int to) {
        int n = to - from;
        float[] out = new float[2 * n];
        System.arraycopy(refChosen, from, out, 0, n);
        System.arraycopy(refRejected, from, out, n, n);
        return out;
    }

    float[] targets(int from, int to) {
        return java.util.Arrays.copyOfRange(softTargets, from, to);
    }

    /** The float64 reference loss on the model's logits of pairs [from, to), and the parameter gradients it implies. */
    record Expected(ReferenceDnoLoss loss, Map<String, float[]> grads) {}

    /**
     * Back-propagates the float64 reference's logits gradient (times {@code weight}) through the
     * model, so that only the loss differs from the path under test. Leaves the gradients zero.
     */
    Expected expected(CausalLM m, PolicyTrainer trainer, int from, int to, boolean soft, double weight) {
        m.zeroGrad();
        ReferenceDnoLoss want;
        try (PointerScope scope = new PointerScope(); SequenceBatch batch = batch(from, to)) {
            Tensor logits = m.logits(trainer.hidden(batch)).contiguous();
            int n = (int) logits.size(0), t = (int) logits.size(1), v = (int) logits.size(2);
            want = new ReferenceDnoLoss(n / 2, t, v, widen(Tensors.toFloats(logits)), Tensors.toLongs(batch.labels()),
                    widen(ref(from, to)), soft ? widen(targets(from, to)) : null, BETA, false, SequenceBatch.IGNORE, weight);
            float[] grad = new float[want.grad.length];
            for (int i = 0; i < grad.length; i++) grad[i] = (float) want.grad[i];
            logits.backward(Tensors.fromFloats(grad, n, t, v), new BoolOptional(), false, new TensorArrayRefOptional());
        }
        Map<String, float[]> grads = grads(m);
        m.zeroGrad();
        return new Expected(want, grads);
    }

    static double[] widen(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    static Map<String, float[]> grads(CausalLM m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.parameters().forEach((n, p) -> out.put(n, Tensors.toFloats(p.grad())));
        return out;
    }

    static Map<String, float[]> values(CausalLM m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.parameters().forEach((n, p) -> out.put(n, Tensors.toFloats(p)));
        return out;
    }

    /** Every element within {@code rtol} of the tensor's largest magnitude; names the first three that are not. */
    static void assertClose(Map<String, float[]> want, Map<String, float[]> got, double rtol, String what) {
        for (String name : want.keySet()) {
            float[] a = want.get(name), b = got.get(name);
            double scale = 1e-12;
            for (float x : a) scale = Math.max(scale, Math.abs(x));
            int bad = 0;
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < a.length; i++)
                if (!(Math.abs(a[i] - b[i]) <= rtol * scale) && bad++ < 3)
                    sb.append("\n  [").append(i).append("] want ").append(a[i]).append(" got ").append(b[i]);
            if (bad > 0) fail(what + " " + name + ": " + bad + " of " + a.length + " differ by more than " + rtol + " of " + scale + sb);
        }
    }
}
