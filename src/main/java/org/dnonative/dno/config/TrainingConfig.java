package org.dnonative.dno.config;

import org.dnonative.train.PairLoss;

/**
 * Training of pi_{t+1} from pi_t on the iteration's pairs.
 *
 * @param learningRateDecay learning-rate multiplier per iteration (lower in later iterations: < 1)
 * @param batchSize         pairs per optimizer step (reached through gradient accumulation)
 * @param microBatch        pairs per forward/backward pass
 * @param epochs            share of the iteration's pairs seen, at most one epoch
 * @param loss              native (the DNO loss kernel on the logits), fused (the fused lm_head + loss
 *                          kernel on the final hidden states: the [N,T,V] logits never exist) or
 *                          libtorch (the reference composition)
 * @param scoreTokenBudget  tokens per forward pass when computing reference log-probs
 * @param reference         the loss's reference policy: previous (pi_t, the paper's DNO-Prct: each iteration a
 *                          step from the last iterate) or start (pi_1 at every iteration: the pairs' log-ratios
 *                          are measured from the starting policy, so a response the iterates have already raised
 *                          above pi_1 is pushed less than one they have lowered)
 */
public record TrainingConfig(double beta, double learningRate, double learningRateDecay, int batchSize, int microBatch,
                             double epochs, double warmupRatio, double weightDecay, double maxGradNorm, PairLoss.Kind loss,
                             int scoreTokenBudget, Reference reference) {
    /** Which policy's log-probs the DNO loss measures the pairs' log-ratios from. */
    public enum Reference { PREVIOUS, START }

    public TrainingConfig {
        new Checks().positive(beta, "beta").positive(learningRate, "learning_rate")
                .in(learningRateDecay, 0, 1, true, false, "learning_rate_decay")
                .atLeast(batchSize, 1, "batch_size").atLeast(microBatch, 1, "micro_batch")
                .require(epochs > 0 && epochs <= 1, "epochs", "must be in (0, 1] (DNO trains at most one epoch per iteration), was " + epochs)
                .in(warmupRatio, 0, 1, false, true, "warmup_ratio").nonNegative(weightDecay, "weight_decay")
                .require(maxGradNorm >= 0, "max_grad_norm", "must be >= 0 (0 = no clipping), was " + maxGradNorm)
                .notNull(loss, "loss").atLeast(scoreTokenBudget, 1, "score_token_budget")
                .notNull(reference, "reference").throwIfAny();
    }

    /** The iteration whose policy pi_r is iteration t's reference: t itself (previous), or 1 (start). */
    public int referenceIteration(int t) {
        return reference == Reference.START ? 1 : t;
    }

    /**
     * The paper's: beta 0.1, learning rate 5e-5, batch 64 through accumulation, at most one epoch, 10% warmup, clip at 1,
     * the previous iterate as the reference.
     */
    public static TrainingConfig defaults() {
        return new TrainingConfig(0.1, 5e-5, 1.0, 64, 8, 1.0, 0.1, 0.0, 1.0, PairLoss.Kind.NATIVE, 16384, Reference.PREVIOUS);
    }
}
