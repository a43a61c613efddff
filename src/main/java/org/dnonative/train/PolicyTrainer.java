package org.dnonative.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Tensors;
import org.dnonative.model.Threads;
import org.dnonative.model.TrainingTape;

import java.util.ArrayList;
import java.util.List;

/**
 * Trains a {@link CausalLM} on DNO pairs. {@link #accumulate} runs one micro-batch: the forward
 * pass, a {@link PairLoss}, and the one backward path, which adds the micro-batch's gradients,
 * weighted by its share of the optimizer step, to the parameters' .grad; {@link #step} then
 * clips the accumulated gradients, takes an AdamW step at the scheduled learning rate and drops
 * them (undefined until the next backward, as PyTorch's zero_grad leaves them).
 *
 * <p>On CUDA the forward runs under bf16 {@link Autocast} while parameters and AdamW state stay
 * float32 (the master weights); the CPU runs float32 throughout.
 */
public final class PolicyTrainer implements AutoCloseable {
    private final CausalLM model;
    private final TrainOptions options;
    private final LrSchedule schedule;
    private final AdamW optimizer;
    private final boolean autocast;
    private GradientSync sync = GradientSync.NONE;
    private int steps;

    /** What one optimizer step did; gradNorm is the norm before clipping (NaN when clipping is off). */
    public record StepResult(int step, double learningRate, double gradNorm) {}

    /** A micro-batch's mean loss, mean reward margin (z = beta * log-ratio difference) and share of pairs with z > 0. */
    public record MicroResult(double loss, double rewardMargin, double accuracy) {}

    public PolicyTrainer(CausalLM model, TrainOptions options) {
        this(model, options, true);
    }

    /** @param bf16AutocastOnCuda run forward passes under bf16 autocast when the model is on CUDA */
    public PolicyTrainer(CausalLM model, TrainOptions options, boolean bf16AutocastOnCuda) {
        if (model == null || options == null) throw new IllegalArgumentException("model and options are required");
        this.autocast = bf16AutocastOnCuda;
        this.model = model;
        this.options = options;
        this.schedule = options.schedule();
        this.optimizer = new AdamW(model.parameters(), options.beta1(), options.beta2(), options.eps(), options.weightDecay());
        model.zeroGrad();
    }

    public CausalLM model() { return model; }

    /** What happens to the accumulated gradients before each step's clipping (data-parallel runs: their sum over the ranks). */
    public PolicyTrainer gradientSync(GradientSync s) {
        if (s == null) throw new IllegalArgumentException("gradient sync is null (GradientSync.NONE for none)");
        this.sync = s;
        return this;
    }

    public int steps() { return steps; }

    /**
     * Final hidden states [B,T,H] of the batch, with autograd (for losses other than DNO's, e.g. a
     * warm start). Sequences that continue the same prompt (a pair's chosen and rejected) share its
     * forward where {@link #sharesPrompts} says so.
     */
    public Tensor hidden(SequenceBatch batch) {
        try (Autocast.Region region = Autocast.forDevice(model.device(), autocast)) {
            if (sharesPrompts(model, batch))
                try (SequenceBatch.SharedPrompts s = batch.sharedPrompts()) {
                    return model.hiddenSharingPrompts(s);
                }
            return model.hidden(batch.inputIds(), null, null, null);
        }
    }

    /**
     * Whether the forward of {@code batch} computes each distinct prompt once
     * ({@link CausalLM#hiddenSharingPrompts}: the same states up to float rounding, a quarter less
     * work on the layers when prompts are as long as responses): on the CPU, when fewer distinct
     * prompts than sequences, for models whose lm_head has at least 2^16 elements (the embedded
     * demo's tiny policy trains exactly as before, so its documented tables stand), unless
     * {@code DNO_TRAIN_SHARED_PROMPTS=off} (to compare). CUDA keeps the plain forward (not yet
     * checked on a GPU).
     */
    static boolean sharesPrompts(CausalLM model, SequenceBatch batch) {
        if (!model.device().is_cpu() || "off".equals(System.getenv("DNO_TRAIN_SHARED_PROMPTS"))) return false;
        return model.largeLmHead() && batch.distinctPrompts() < batch.batch();
    }

    /**
     * One micro-batch: forward, {@code loss}, backward; the gradients add to those already
     * accumulated since the last {@link #step}.
     *
     * @param batch       2P sequences: P chosen responses, then the P rejected ones to the same prompts
     * @param refLogps    [2P] the sequences' log-probs under the reference policy, chosen then rejected
     * @param softTargets [P] the probability that the chosen response wins, or null for hard targets
     * @param beta        the scale of the log-ratio margin, > 0
     * @param weight      this micro-batch's share of the optimizer step (its pairs / the step's pairs):
     *                    the gradients are multiplied by it, and by nothing else
     * @return means over the micro-batch's pairs
     *
     * <p>On the CPU with several compute threads ({@link org.dnonative.model.Threads}) the pairs are
     * split over them ({@link SplitMicroBatch}): the same result for the same thread count, and the
     * same up to float rounding as one batch.
     */
    public MicroResult accumulate(PairLoss loss, SequenceBatch batch, float[] refLogps, float[] softTargets, double beta, double weight) {
        int pairs = checkMicroBatch(loss, batch, refLogps, softTargets, beta, weight);
        int parts = SplitMicroBatch.parts(model, pairs);
        if (parts > 1) return SplitMicroBatch.run(this, loss.kind(), batch, refLogps, softTargets, beta, weight, parts);
        int threads = Threads.isWorker() ? 1 : Threads.count();   // the tape's products (the only part)
        try (PointerScope scope = new PointerScope(); TrainingTape tape = TrainingTape.open(model, threads)) {
            Tensor hidden = hidden(batch);
            Tensor ref = Tensors.fromFloats(refLogps, 2L * pairs).to(model.device(), torch.ScalarType.Float);
            Tensor targets = softTargets == null ? null : Tensors.fromFloats(softTargets, pairs).to(model.device(), torch.ScalarType.Float);
            PairLoss.Gradients g = loss.compute(model, batch, hidden, ref, targets, beta, weight);
            if (tape != null) {
                Tensor[] grads = tape.backward(g.output(), g.gradOutput());
                List<Tensor> params = new ArrayList<>(model.parameters().values());
                try {
                    for (int i = 0; i < grads.length; i++) if (grads[i] != null) addToGrad(params.get(i), grads[i]);
                } finally {
                    for (Tensor t : grads) if (t != null) t.close();
                }
            } else {
                g.output().backward(g.gradOutput(), new BoolOptional(), false, new TensorArrayRefOptional());
            }
            if (g.gradLmHead() != null)
                model.lmHeadWeight().backward(g.gradLmHead(), new BoolOptional(), false, new TensorArrayRefOptional());
            return new MicroResult(g.loss(), g.rewardMargin(), g.accuracy());
        }
    }

    /** param.grad += g; where param has no gradient yet, .grad becomes g's buffer itself (no copy). */
    static void addToGrad(Tensor param, Tensor g) {
        Tensor grad = param.grad();
        if (grad.defined()) grad.add_(g);
        else param.mutable_grad().put(g);
    }

    private static int checkMicroBatch(PairLoss loss, SequenceBatch batch, float[] refLogps, float[] softTargets, double beta, double weight) {
        if (loss == null) throw new IllegalArgumentException("loss is null");
        if (batch == null) throw new IllegalArgumentException("batch is null");
        int rows = batch.batch();
        if (rows == 0 || rows % 2 != 0)
            throw new IllegalArgumentException("batch must hold an even, non-zero number of sequences (chosen then rejected), got " + rows);
        int pairs = rows / 2;
        if (refLogps == null || refLogps.length != rows)
            throw new IllegalArgumentException("refLogps must hold " + rows + " values, got " + (refLogps == null ? "null" : refLogps.length));
        for (int i = 0; i < rows; i++)
            if (!Float.isFinite(refLogps[i])) throw new IllegalArgumentException("refLogps[" + i + "] is not finite: " + refLogps[i]);
        if (softTargets != null) {
            if (softTargets.length != pairs)
                throw new IllegalArgumentException("softTargets must hold " + pairs + " values, got " + softTargets.length);
            for (int i = 0; i < pairs; i++)
                if (!(softTargets[i] >= 0 && softTargets[i] <= 1))
                    throw new IllegalArgumentException("softTargets[" + i + "] must be in [0, 1], got " + softTargets[i]);
        }
        if (!(beta > 0) || !Double.isFinite(beta)) throw new IllegalArgumentException("beta must be finite and > 0, got " + beta);
        if (!(weight > 0) || !Double.isFinite(weight)) throw new IllegalArgumentException("weight must be finite and > 0, got " + weight);
        return pairs;
    }

    /** Clips the accumulated (and synced) gradients, steps AdamW with the scheduled learning rate, drops the gradients. */
    public StepResult step() {
        sync.reduce(model.parameters());
        double norm = Double.NaN;
        float scale = 1f;
        if (options.maxGradNorm() > 0) {
            List<Tensor> withGrad = new ArrayList<>();
            boolean host = true;
            for (Tensor p : model.parameters().values())
                if (p.grad().defined()) {
                    withGrad.add(p);
                    host &= AdamW.fusable(p, p.grad());
                }
            if (host) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor total = totalGradNorm(withGrad);
                    norm = total.item_double();
                    // clip_grad_norm_'s coefficient, in its float32 ops; applied inside the optimizer's pass
                    Tensor coef = torch.empty_like(total).fill_(new Scalar(options.maxGradNorm())).div_(total.add(new Scalar(1e-6)));
                    scale = coef.clamp_max(new Scalar(1.0)).item_float();
                }
            } else {
                norm = torch.clip_grad_norm_(Tensors.vector(withGrad), options.maxGradNorm());
            }
        }
        double lr = schedule.lr(steps);
        optimizer.step(lr, scale, false);
        dropGradients();
        steps++;
        return new StepResult(steps, lr, norm);
    }

    /**
     * Leaves every gradient undefined, as PyTorch's {@code zero_grad()} does by default
     * ({@code set_to_none=True}): the next backward then hands each .grad its own freshly computed
     * buffer instead of adding it into a zeroed one, which saves a pass that writes the zeros and
     * one that reads them. The parameters are bitwise those of zeroed gradients (0 + g is g, up to
     * the sign of a zero, which AdamW's moments do not keep; TrainingTest compares the two).
     */
    private void dropGradients() {
        try (PointerScope scope = new PointerScope()) {
            for (Tensor p : model.parameters().values())
                if (p.grad().defined()) p.mutable_grad().reset();
        }
    }

    /**
     * The gradients' global L2 norm as torch.nn.utils.clip_grad_norm_ computes it (each gradient's
     * float32 norm, then the norm of those), so that clipping scales by the same float32 coefficient.
     *
     * @throws IllegalStateException naming the parameter, when a gradient holds a NaN or an infinity
     *         (nothing is updated: an optimizer step would spread it to every weight)
     */
    private Tensor totalGradNorm(List<Tensor> withGrad) {
        // each gradient's norm on a compute worker (a read of every gradient: split over the threads);
        // every norm is the same single-threaded kernel on any thread, so the bits do not depend on the split
        List<java.util.concurrent.Callable<float[]>> tasks = new ArrayList<>();
        for (int[] r : org.dnonative.model.Threads.ranges(withGrad.size(), org.dnonative.model.Threads.count()))
            tasks.add(() -> {
                float[] out = new float[r[1] - r[0]];
                try (PointerScope scope = new PointerScope()) {
                    for (int i = r[0]; i < r[1]; i++) out[i - r[0]] = withGrad.get(i).grad().norm(new Scalar(2.0)).item_float();
                }
                return out;
            });
        float[] each = new float[withGrad.size()];
        int at = 0;
        for (float[] part : org.dnonative.model.Threads.run(tasks)) {
            System.arraycopy(part, 0, each, at, part.length);
            at += part.length;
        }
        for (int i = 0; i < each.length; i++)
            if (!Float.isFinite(each[i])) throw new IllegalStateException("optimizer step " + (steps + 1)
                    + ": the gradient of " + nameOf(withGrad.get(i)) + " holds a NaN or an infinity (not finite); no parameter was updated");
        Tensor norms = Tensors.fromFloats(each, each.length).to(model.device(), torch.ScalarType.Float);
        return each.length == 1 ? norms.view(new long[0]) : norms.norm(new Scalar(2.0));
    }

    private String nameOf(Tensor p) {
        for (java.util.Map.Entry<String, Tensor> e : model.parameters().entrySet())
            if (e.getValue().is_same(p)) return e.getKey();
        return "a parameter";
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
