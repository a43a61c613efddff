package org.dnonative.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Scorer;
import org.dnonative.model.Tensors;

import java.util.ArrayList;
import java.util.List;

/**
 * Trains a {@link CausalLM} on DNO pairs: micro-batches accumulate gradients; every
 * {@code accumulationSteps} micro-batches the gradients are clipped, AdamW steps with the scheduled
 * learning rate, and gradients are zeroed.
 *
 * <p>Two ways to produce a micro-batch's gradients:
 * <ul>
 * <li>the fused native loss (issue "fused lm_head"): {@code h = batch.responseHidden(trainer.hidden(batch))},
 *     run the kernel on {@code h} and {@link #lmHead()}, then {@link #backwardFromResponseHidden}
 *     with its gradients for h and for lm_head;</li>
 * <li>{@link #referenceMicroStep}: log_softmax + gather + the pairwise sigmoid loss in plain
 *     libtorch, the reference used in tests.</li>
 * </ul>
 * On CUDA the forward runs under bf16 {@link Autocast} while parameters and AdamW state stay float32
 * (the master weights); the CPU runs float32 throughout.
 */
public final class PolicyTrainer implements AutoCloseable {
    private final CausalLM model;
    private final TrainOptions options;
    private final LrSchedule schedule;
    private final AdamW optimizer;
    private final boolean autocast;
    private int microBatches;
    private int steps;

    /** What one optimizer step did. */
    public record StepResult(int step, double learningRate, double gradNorm) {}

    /** Loss and mean margin of a micro-batch (margin = beta * log-ratio difference). */
    public record MicroResult(double loss, double meanMargin, double accuracy) {}

    public PolicyTrainer(CausalLM model, TrainOptions options) {
        this(model, options, true);
    }

    /** @param bf16AutocastOnCuda run forward passes under bf16 autocast when the model is on CUDA */
    public PolicyTrainer(CausalLM model, TrainOptions options, boolean bf16AutocastOnCuda) {
        this.autocast = bf16AutocastOnCuda;
        this.model = model;
        this.options = options;
        this.schedule = options.schedule();
        this.optimizer = new AdamW(model.parameters(), options.beta1(), options.beta2(), options.eps(), options.weightDecay());
        model.zeroGrad();
    }

    public CausalLM model() { return model; }

    public int steps() { return steps; }

    /** The lm_head weight [V,H] (the embedding when tied). */
    public Tensor lmHead() { return model.lmHeadWeight(); }

    /** Final hidden states [B,T,H] of the batch, with autograd. */
    public Tensor hidden(SequenceBatch batch) {
        try (AutoCloseable ac = Autocast.forDevice(model.device(), autocast)) {
            return model.hidden(batch.inputIds(), null, null, null);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Back-propagates externally computed gradients: {@code gradHidden} for {@code responseHidden}
     * (the rows of {@link SequenceBatch#responseHidden}) and {@code gradLmHead} [V,H] (may be null),
     * both scaled by 1/accumulationSteps here. Counts one micro-batch.
     */
    public void backwardFromResponseHidden(Tensor responseHidden, Tensor gradHidden, Tensor gradLmHead) {
        try (PointerScope scope = new PointerScope()) {
            Scalar scale = new Scalar(1.0 / options.accumulationSteps());
            responseHidden.backward(gradHidden.mul(scale), new BoolOptional(), false, new TensorArrayRefOptional());
            if (gradLmHead != null) lmHead().backward(gradLmHead.mul(scale), new BoolOptional(), false, new TensorArrayRefOptional());
        }
        microBatches++;
    }

    /**
     * One micro-batch with the reference loss: pairs (prompt, chosen, rejected) with reference
     * log-prob sums under pi_t, beta, and soft targets (null for DNO-Prct's hard targets).
     */
    public MicroResult referenceMicroStep(List<int[]> prompts, List<int[]> chosen, List<int[]> rejected,
                                         double[] refChosen, double[] refRejected, double beta, double[] softTargets, int padId) {
        int pairs = prompts.size();
        List<int[]> ps = new ArrayList<>(prompts);
        ps.addAll(prompts);
        List<int[]> rs = new ArrayList<>(chosen);
        rs.addAll(rejected);
        MicroResult result;
        try (PointerScope scope = new PointerScope();
             SequenceBatch batch = new SequenceBatch(ps, rs, padId, model.device())) {
            Tensor seq = Scorer.sequenceLogprobs(model, batch, hidden(batch));
            Tensor pc = seq.narrow(0, 0, pairs), pr = seq.narrow(0, pairs, pairs);
            Tensor rc = Tensors.fromFloats(toFloats(refChosen), pairs).to(model.device(), torch.ScalarType.Float);
            Tensor rr = Tensors.fromFloats(toFloats(refRejected), pairs).to(model.device(), torch.ScalarType.Float);
            Tensor margins = ReferenceDnoLoss.margins(pc, pr, rc, rr, beta);
            Tensor targets = softTargets == null ? null
                    : Tensors.fromFloats(toFloats(softTargets), pairs).to(model.device(), torch.ScalarType.Float);
            Tensor loss = ReferenceDnoLoss.loss(margins, targets);
            loss.div(new Scalar(options.accumulationSteps())).backward();
            float[] m = Tensors.toFloats(margins);
            double mean = 0, acc = 0;
            for (float x : m) { mean += x; acc += x > 0 ? 1 : 0; }
            result = new MicroResult(loss.item_double(), mean / pairs, acc / pairs);
        }
        microBatches++;
        return result;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    /**
     * Call after each micro-batch: when {@code accumulationSteps} micro-batches have accumulated,
     * clips, steps and zeroes the gradients and returns what it did; otherwise returns null.
     */
    public StepResult maybeStep() {
        if (microBatches < options.accumulationSteps()) return null;
        return step();
    }

    /** Steps now with whatever has accumulated (e.g. the last, partial accumulation of an epoch). */
    public StepResult step() {
        double norm = Double.NaN;
        if (options.maxGradNorm() > 0) {
            List<Tensor> withGrad = new ArrayList<>();
            for (Tensor p : model.parameters().values()) if (p.grad().defined()) withGrad.add(p);
            norm = torch.clip_grad_norm_(Tensors.vector(withGrad), options.maxGradNorm());
        }
        double lr = schedule.lr(steps);
        optimizer.step(lr);
        model.zeroGrad();
        microBatches = 0;
        steps++;
        return new StepResult(steps, lr, norm);
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
