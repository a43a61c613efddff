package org.dnonative.torch;

import static org.bytedeco.pytorch.global.torch.log_sigmoid;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The DNO loss composed from libtorch ops, the way a PyTorch user writes it (log_softmax in
 * float32, gather, masked sum, pairwise log-sigmoid): the baseline our kernels are checked and
 * timed against, and the {@code LIBTORCH} training loss. Differentiable: call backward() on the
 * result. The pieces are public so that a trainer can report the per-pair margins it trained on.
 *
 * <p>With N = 2P sequences (P chosen, then P rejected), s_i the summed (or averaged) label-token
 * log-probs of sequence i and ref_i its reference log-prob:
 * z_i = beta * [(s_i - ref_i) - (s_{P+i} - ref_{P+i})] and
 * loss = mean over pairs of -[q_i log sigmoid(z_i) + (1 - q_i) log sigmoid(-z_i)], q = 1 without
 * soft targets (DNO-Prct, the DPO form).
 */
public final class TorchDnoReference {
    private TorchDnoReference() {}

    /**
     * @param logits  [N,T,V] (any float dtype; computed in float32)
     * @param labels  [N,T] int64 with ignoreIndex at positions that do not count
     * @param ref     [N] float32 reference log-probs
     * @param targets [P] float32 soft targets, or null for q = 1
     * @return the scalar mean loss
     */
    public static Tensor loss(Tensor logits, Tensor labels, Tensor ref, Tensor targets, double beta,
                              long ignoreIndex, boolean average) {
        return pairLoss(margins(sequenceLogprobs(logits, labels, ignoreIndex, average), ref, beta), targets);
    }

    /**
     * Per-sequence log-probs [N] of the label tokens: the sum over counted positions, or their mean
     * when {@code average} (0 for a sequence without counted positions).
     */
    public static Tensor sequenceLogprobs(Tensor logits, Tensor labels, long ignoreIndex, boolean average) {
        Tensor mask = labels.ne(new Scalar(ignoreIndex));
        Tensor safe = labels.mul(mask.to(ScalarType.Long));  // ignored positions gather token 0, then masked out
        Tensor lp = logits.to(ScalarType.Float).log_softmax(2);
        Tensor tok = lp.gather(2, safe.unsqueeze(2)).squeeze(2).mul(mask.to(ScalarType.Float));
        Tensor s = tok.sum(new long[] {1}, false, null);
        if (average) s = s.div(mask.to(ScalarType.Float).sum(new long[] {1}, false, null).clamp_min(new Scalar(1.0)));
        return s;
    }

    /** Per-pair margins z [P] from the sequence log-probs [N] (chosen then rejected) and their references [N]. */
    public static Tensor margins(Tensor sequenceLogprobs, Tensor ref, double beta) {
        long p = sequenceLogprobs.size(0) / 2;
        Tensor r = sequenceLogprobs.sub(ref);
        return r.narrow(0, 0, p).sub(r.narrow(0, p, p)).mul(new Scalar(beta));
    }

    /** The mean over pairs of the pairwise loss of margins z [P]; targets [P] or null for q = 1. */
    public static Tensor pairLoss(Tensor margins, Tensor targets) {
        Tensor perPair = targets == null
                ? log_sigmoid(margins).neg()
                : targets.mul(log_sigmoid(margins)).add(targets.neg().add(new Scalar(1.0)).mul(log_sigmoid(margins.neg()))).neg();
        return perPair.mean();
    }
}
