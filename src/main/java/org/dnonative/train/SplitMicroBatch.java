package org.dnonative.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Tensors;
import org.dnonative.model.Threads;

/**
 * One micro-batch of pairs over the compute workers ({@link Threads}): the pairs are cut into W
 * contiguous parts (W = min(workers, pairs)), each part's forward, loss and backward run on a
 * worker of its own with single-threaded kernels, and the parts' gradients are added in part order
 * into the parameters' .grad.
 *
 * <p>Why: a training step's products are too small to gain from libtorch's intra-op threads on a
 * shared machine (measured slower under load, {@link Threads}), but independent parts of a batch
 * are not: each worker computes alone and never waits inside a step. Why autograd.grad and not
 * backward: concurrent backward passes would add into the same .grad in whichever order they
 * finish; here every part returns its own gradients and the sum has a fixed order, so a run is
 * the same for the same thread count (not across thread counts: the sum is split differently).
 * Cost: W float32 copies of the gradients while the parts run.
 */
final class SplitMicroBatch {
    private SplitMicroBatch() {}

    /** The part count for {@code pairs} pairs on {@code model}: 1 (no split) on CUDA or with one worker. */
    static int parts(CausalLM model, int pairs) {
        if (!model.device().is_cpu()) return 1;
        return Math.max(1, Math.min(Threads.count(), pairs));
    }

    /** Per-part results, then summed gradients added to .grad; returns the micro-batch's means. */
    static PolicyTrainer.MicroResult run(PolicyTrainer trainer, PairLoss.Kind kind, List<int[]> prompts,
                                         List<int[]> chosen, List<int[]> rejected, int padId, float[] refLogps,
                                         float[] softTargets, double beta, double weight, int parts) {
        CausalLM model = trainer.model();
        int pairs = chosen.size();
        List<String> names = model.parameterNames();
        List<Tensor> params = new ArrayList<>(model.parameters().values());
        long lmHead = model.lmHeadWeight().data_ptr().address();
        int lmHeadIndex = -1;
        for (int i = 0; i < params.size(); i++) if (params.get(i).data_ptr().address() == lmHead) lmHeadIndex = i;
        final int headIndex = lmHeadIndex;

        List<Callable<Part>> tasks = new ArrayList<>();
        for (int k = 0; k < parts; k++) {
            int from = (int) ((long) pairs * k / parts), to = (int) ((long) pairs * (k + 1) / parts);
            tasks.add(() -> part(trainer, kind, prompts, chosen, rejected, padId, refLogps, softTargets, beta,
                    weight * (to - from) / pairs, from, to, params, headIndex));
        }
        List<Part> done = Threads.run(tasks);
        double loss = 0, margin = 0, accuracy = 0;
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor sum = null;
                for (Part p : done) {
                    Tensor g = p.grads[i];
                    if (g == null) continue;
                    sum = sum == null ? g : sum.add(g);
                }
                if (sum == null) continue;
                Tensor param = params.get(i);
                if (!param.requires_grad()) throw new IllegalStateException(names.get(i) + " does not require grad");
                param.backward(sum, new BoolOptional(), false, new org.bytedeco.pytorch.TensorArrayRefOptional());
            }
        } finally {
            for (Part p : done) for (Tensor g : p.grads) if (g != null) g.close();
        }
        for (Part p : done) {
            double share = (double) p.pairs / pairs;
            loss += share * p.result.loss();
            margin += share * p.result.rewardMargin();
            accuracy += share * p.result.accuracy();
        }
        return new PolicyTrainer.MicroResult(loss, margin, accuracy);
    }

    private record Part(Tensor[] grads, PolicyTrainer.MicroResult result, int pairs) {}

    private static Part part(PolicyTrainer trainer, PairLoss.Kind kind, List<int[]> prompts, List<int[]> chosen,
                             List<int[]> rejected, int padId, float[] refLogps, float[] softTargets, double beta,
                             double weight, int from, int to, List<Tensor> params, int headIndex) {
        int n = to - from, pairs = chosen.size();
        List<int[]> ps = new ArrayList<>(), rs = new ArrayList<>();
        float[] refs = new float[2 * n];
        for (int i = 0; i < n; i++) {
            ps.add(prompts.get(from + i));
            rs.add(chosen.get(from + i));
            refs[i] = refLogps[from + i];
            refs[n + i] = refLogps[pairs + from + i];
        }
        for (int i = 0; i < n; i++) {
            ps.add(prompts.get(from + i));
            rs.add(rejected.get(from + i));
        }
        float[] targets = softTargets == null ? null : Arrays.copyOfRange(softTargets, from, to);
        CausalLM model = trainer.model();
        Tensor[] grads = new Tensor[params.size()];
        try (PairLoss loss = PairLoss.create(kind, 1); PointerScope scope = new PointerScope();
             SequenceBatch batch = new SequenceBatch(ps, rs, padId, model.device())) {
            Tensor hidden = trainer.hidden(batch);
            Tensor ref = Tensors.fromFloats(refs, 2L * n).to(model.device(), torch.ScalarType.Float);
            Tensor tg = targets == null ? null : Tensors.fromFloats(targets, n).to(model.device(), torch.ScalarType.Float);
            PairLoss.Gradients g = loss.compute(model, batch, hidden, ref, tg, beta, weight);
            TensorVector inputs = Tensors.vector(params);
            TensorVector out = torch.grad(new TensorVector(g.output()), inputs, new TensorVector(g.gradOutput()),
                    new BoolOptional(false), false, true);
            for (int i = 0; i < grads.length; i++) {
                Tensor t = out.get(i);   // a view into the vector's storage, gone with the vector
                if (t.defined()) grads[i] = keep(new Tensor(t));   // its own handle on the gradient
            }
            if (g.gradLmHead() != null) {
                if (headIndex < 0) throw new IllegalStateException("the lm_head weight is not among the parameters");
                Tensor old = grads[headIndex];
                grads[headIndex] = keep(old == null ? g.gradLmHead().clone() : old.add(g.gradLmHead()));
                if (old != null) old.close();
            }
            return new Part(grads, new PolicyTrainer.MicroResult(g.loss(), g.rewardMargin(), g.accuracy()), n);
        }
    }

    private static Tensor keep(Tensor t) {
        t.retainReference();  // outlives the part's scope; closed after the sum
        return t;
    }
}
