package org.dnonative.train;

import org.bytedeco.pytorch.Tensor;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;

/**
 * DNO's pairwise log-ratio loss on a micro-batch, from the policy's final hidden states to the
 * gradients that must flow back into the model. It never calls backward itself: that is
 * {@link PolicyTrainer#accumulate}'s job, the one backward path, whichever way the loss is
 * computed. The three ways give the same loss and gradients up to float rounding:
 * <ul>
 * <li>{@link Kind#NATIVE}: the logits [N,T,V] from the lm_head, the native kernel on them
 *     (org.dnonative.torch.TorchDnoLoss); back-propagates the logits' gradient;</li>
 * <li>{@link Kind#FUSED}: the fused lm_head + loss kernel on the hidden states
 *     (org.dnonative.torch.TorchFusedLinearDnoLoss), the logits never exist in full;
 *     back-propagates the hidden states' gradient and hands the lm_head its own;</li>
 * <li>{@link Kind#LIBTORCH}: the reference composition in plain libtorch ops
 *     (org.dnonative.torch.TorchDnoReference); back-propagates the scalar loss.</li>
 * </ul>
 * An instance may hold device buffers between calls (the CUDA kernels' scratch): close it.
 */
public interface PairLoss extends AutoCloseable {
    enum Kind { NATIVE, FUSED, LIBTORCH }

    /**
     * @param threads CPU threads of the native kernels, 0 for their default (all cores); the
     *                libtorch composition uses libtorch's own thread pool
     */
    static PairLoss create(Kind kind, int threads) {
        if (kind == null) throw new IllegalArgumentException("the pair loss kind is null");
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        return switch (kind) {
            case NATIVE -> new NativePairLoss(threads);
            case FUSED -> new FusedPairLoss(threads);
            case LIBTORCH -> new LibtorchPairLoss();
        };
    }

    Kind kind();

    /**
     * What one micro-batch must back-propagate: {@code gradOutput} into {@code output} (a tensor
     * computed from the model with autograd), and {@code gradLmHead} [V,H] straight into the
     * lm_head weight when the loss used that weight outside autograd (null otherwise); and the
     * micro-batch's loss, mean reward margin (mean z) and accuracy (share of pairs with z > 0).
     */
    record Gradients(Tensor output, Tensor gradOutput, Tensor gradLmHead, double loss, double rewardMargin, double accuracy) {}

    /**
     * The loss of a micro-batch and its gradients, already multiplied by {@code gradScale} (the
     * kernels fold the factor into the gradient they write, so no extra pass over it is needed).
     *
     * @param model       the policy; its lm_head turns hidden states into logits
     * @param batch       2P sequences: P chosen, then the P rejected responses to the same prompts
     * @param hidden      [2P,T,H] final hidden states of {@code batch}, with autograd
     * @param refLogps    [2P] float32 on the model's device: the sequences' log-probs under the reference policy
     * @param softTargets [P] float32 on the model's device, or null for hard targets (q = 1)
     * @param beta        the scale of the log-ratio margin, > 0
     * @param gradScale   the factor the returned gradients carry
     */
    Gradients compute(CausalLM model, SequenceBatch batch, Tensor hidden, Tensor refLogps, Tensor softTargets,
                      double beta, double gradScale);

    @Override
    void close();
}
