package org.dnonative.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Tensors;
import org.dnonative.model.Threads;
import org.dnonative.model.TrainingTape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * One micro-batch of pairs over the compute workers ({@link Threads}), on the CPU: the pairs are
 * cut into W contiguous parts (W = min(workers, pairs)); each part's forward, loss and backward
 * run on a worker of its own with single-threaded kernels, returning its own gradients
 * (autograd.grad); then the workers add them to the parameters' .grad in part order, each worker
 * a share of the parameters.
 *
 * <p>Why: the presets' libtorch can only spread a step's matrix products over its OpenMP and
 * OpenBLAS pools, whose idle threads spin against each other and collapse under load
 * ({@link Threads}); independent parts of a batch need no pool: each worker computes alone and
 * never waits inside its part. Why autograd.grad and not backward: concurrent backward passes
 * would add into the same .grad in whichever order they finish (and a tied lm_head takes two
 * additions per part); here the sum has a fixed order, so a run is the same for the same thread
 * count (not across thread counts: the sum is split differently). Cost: one float32 copy of the
 * gradients per part while the parts run, and one pass over them to add them.
 */
final class SplitMicroBatch {
    private SplitMicroBatch() {}

    /**
     * The part count for {@code pairs} pairs: 1 (no split) off the CPU, with one worker, when a
     * worker calls, or with {@code DNO_TRAIN_SPLIT=off} (to compare).
     */
    static int parts(CausalLM model, int pairs) {
        if (!model.device().is_cpu() || Threads.isWorker() || "off".equals(System.getenv("DNO_TRAIN_SPLIT"))) return 1;
        return Math.max(1, Math.min(Threads.count(), pairs));
    }

    /** Runs the parts, adds their gradients to .grad in part order; returns the micro-batch's means. */
    static PolicyTrainer.MicroResult run(PolicyTrainer trainer, PairLoss.Kind kind, SequenceBatch batch, float[] refLogps,
                                         float[] softTargets, double beta, double weight, int parts) {
        CausalLM model = trainer.model();
        int pairs = batch.batch() / 2;
        List<Tensor> params = new ArrayList<>(model.parameters().values());
        int head = -1;
        Tensor lmHead = model.lmHeadWeight();
        for (int i = 0; i < params.size(); i++) if (params.get(i).is_same(lmHead)) head = i;
        final int headIndex = head;

        List<Callable<Part>> tasks = new ArrayList<>();
        for (int[] r : Threads.ranges(pairs, parts)) {
            int from = r[0], to = r[1];
            tasks.add(() -> part(trainer, kind, batch, refLogps, softTargets, beta, weight * (to - from) / pairs,
                    from, to, params, headIndex));
        }
        List<Part> done = Threads.run(tasks);
        try {
            addInPartOrder(params, done);
            addWeightGradients(params, done);
        } finally {
            for (Part p : done) {
                for (Tensor g : p.grads) if (g != null) g.close();
                for (TrainingTape.WeightProduct w : p.deferred) w.close();
                for (TrainingTape.RowGradient r : p.rows) r.close();
            }
        }
        double loss = 0, margin = 0, accuracy = 0;
        for (Part p : done) {
            double share = (double) p.pairs / pairs;
            loss += share * p.result.loss();
            margin += share * p.result.rewardMargin();
            accuracy += share * p.result.accuracy();
        }
        return new PolicyTrainer.MicroResult(loss, margin, accuracy);
    }

    private record Part(Tensor[] grads, List<TrainingTape.WeightProduct> deferred, List<TrainingTape.RowGradient> rows,
                        PolicyTrainer.MicroResult result, int pairs) {}

    /**
     * The weight gradients the parts' tapes deferred (AMX training, {@link TrainingTape}): each
     * weight's once, over the rows of every part in part order (one product with all the rows
     * instead of a whole gradient per part and their sum), the weights split over the workers by
     * elements, each product on one thread.
     */
    private static void addWeightGradients(List<Tensor> params, List<Part> done) {
        TreeMap<Integer, List<TrainingTape.WeightProduct>> byParam = new TreeMap<>();
        TreeMap<Integer, List<TrainingTape.RowGradient>> rowsByParam = new TreeMap<>();
        for (Part p : done) {
            for (TrainingTape.WeightProduct w : p.deferred) byParam.computeIfAbsent(w.parameter(), k -> new ArrayList<>()).add(w);
            for (TrainingTape.RowGradient r : p.rows) rowsByParam.computeIfAbsent(r.parameter(), k -> new ArrayList<>()).add(r);
        }
        TreeSet<Integer> all = new TreeSet<>(byParam.keySet());
        all.addAll(rowsByParam.keySet());
        if (all.isEmpty()) return;
        List<Integer> keys = new ArrayList<>(all);
        long[] elements = new long[keys.size()];
        for (int i = 0; i < elements.length; i++) elements[i] = params.get(keys.get(i)).numel();
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int[] r : sharesByElements(elements)) {
            List<Integer> mine = keys.subList(r[0], r[1]);
            tasks.add(() -> {
                for (int k : mine) {   // a tied lm_head: its product, then the embedding's rows
                    TrainingTape.addWeightGradient(params.get(k), byParam.getOrDefault(k, List.of()), 1);
                    TrainingTape.addRowGradients(params.get(k), rowsByParam.getOrDefault(k, List.of()));
                }
                return null;
            });
        }
        Threads.run(tasks);
    }

    /** Contiguous ranges [from, to) of items, one per worker (at most {@link Threads#count}), balanced by their elements. */
    private static List<int[]> sharesByElements(long[] elements) {
        long total = 0;
        for (long e : elements) total += e;
        int shares = Math.min(Threads.count(), elements.length);
        List<int[]> out = new ArrayList<>();
        int start = 0;
        long seen = 0;
        for (int s = 0; s < shares && start < elements.length; s++) {
            long until = total * (s + 1) / shares;
            int end = start;
            while (end < elements.length && (seen < until || end == start)) seen += elements[end++];
            if (s == shares - 1) end = elements.length;
            out.add(new int[] {start, end});
            start = end;
        }
        return out;
    }

    /** .grad += part 0's gradient, then part 1's, ...: each worker a contiguous share of the parameters (by elements). */
    private static void addInPartOrder(List<Tensor> params, List<Part> done) {
        long[] elements = new long[params.size()];
        for (int i = 0; i < elements.length; i++) elements[i] = params.get(i).numel();
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int[] r : sharesByElements(elements)) {
            int from = r[0], to = r[1];
            tasks.add(() -> {
                try (PointerScope scope = new PointerScope()) {
                    for (int i = from; i < to; i++) addOne(params.get(i), done, i);
                }
                return null;
            });
        }
        Threads.run(tasks);
    }

    private static void addOne(Tensor param, List<Part> done, int i) {
        for (Part p : done) {
            Tensor g = p.grads[i];
            if (g != null) PolicyTrainer.addToGrad(param, g);   // none yet: .grad becomes this part's own buffer
        }
    }

    private static Part part(PolicyTrainer trainer, PairLoss.Kind kind, SequenceBatch whole, float[] refLogps,
                             float[] softTargets, double beta, double weight, int from, int to, List<Tensor> params,
                             int headIndex) {
        int n = to - from, pairs = whole.batch() / 2;
        float[] refs = new float[2 * n];
        for (int i = 0; i < n; i++) {
            refs[i] = refLogps[from + i];
            refs[n + i] = refLogps[pairs + from + i];
        }
        float[] targets = softTargets == null ? null : Arrays.copyOfRange(softTargets, from, to);
        CausalLM model = trainer.model();
        Tensor[] grads = new Tensor[params.size()];
        List<TrainingTape.WeightProduct> deferred = new ArrayList<>();
        List<TrainingTape.RowGradient> rows = new ArrayList<>();
        try (PairLoss loss = PairLoss.create(kind, 1); PointerScope scope = new PointerScope();
             SequenceBatch batch = whole.pairs(from, to); TrainingTape tape = TrainingTape.open(model, 1, true)) {
            Tensor hidden = trainer.hidden(batch);
            Tensor ref = Tensors.fromFloats(refs, 2L * n);
            Tensor tg = targets == null ? null : Tensors.fromFloats(targets, n);
            PairLoss.Gradients g = loss.compute(model, batch, hidden, ref, tg, beta, weight);
            if (tape != null) {
                Tensor[] got = tape.backward(g.output(), g.gradOutput());   // retained for us
                System.arraycopy(got, 0, grads, 0, grads.length);
                deferred.addAll(tape.deferredWeightGradients());
                rows.addAll(tape.deferredRowGradients());
            } else {
                TensorVector out = torch.grad(new TensorVector(g.output()), Tensors.vector(params), new TensorVector(g.gradOutput()),
                        new BoolOptional(false), false, true);
                for (int i = 0; i < grads.length; i++) {
                    Tensor t = out.get(i);   // a view into the vector's storage, gone with the vector
                    if (t.defined()) grads[i] = keep(new Tensor(t));   // its own handle on the gradient
                }
            }
            if (g.gradLmHead() != null) {
                if (headIndex < 0) throw new IllegalStateException("the lm_head weight is not among the parameters");
                if (grads[headIndex] == null) grads[headIndex] = keep(g.gradLmHead().clone());
                else grads[headIndex].add_(g.gradLmHead());   // this part's own tensor: added in place
            }
            return new Part(grads, deferred, rows, new PolicyTrainer.MicroResult(g.loss(), g.rewardMargin(), g.accuracy()), n);
        } catch (RuntimeException | Error e) {
            for (Tensor t : grads) if (t != null) t.close();
            for (TrainingTape.WeightProduct w : deferred) w.close();
            for (TrainingTape.RowGradient r : rows) r.close();
            throw e;
        }
    }

    private static Tensor keep(Tensor t) {
        t.retainReference();  // outlives the part's scope; closed after the sum
        return t;
    }
}
