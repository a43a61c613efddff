package org.dnonative.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.log_sigmoid;

/**
 * DNO's pairwise loss in plain libtorch ops (the reference the fused native kernel must match):
 * with margin m = beta * [(log pi(y_w) - log pi_t(y_w)) - (log pi(y_l) - log pi_t(y_l))],
 * loss = mean over pairs of -[ s * log sigmoid(m) + (1 - s) * log sigmoid(-m) ],
 * where s = 1 for DNO-Prct (Algorithm 2, the DPO form) and s = sigma(r_t(y_w) - r_t(y_l)) for the
 * soft targets of Algorithm 1.
 */
public final class ReferenceDnoLoss {
    private ReferenceDnoLoss() {}

    /** Per-pair margins [P] = beta * (chosen ratio - rejected ratio). */
    public static Tensor margins(Tensor policyChosen, Tensor policyRejected, Tensor refChosen, Tensor refRejected, double beta) {
        return policyChosen.sub(refChosen).sub(policyRejected.sub(refRejected)).mul(new Scalar(beta));
    }

    /** Mean loss over pairs; {@code softTargets} [P] or null for hard targets (all 1). */
    public static Tensor loss(Tensor margins, Tensor softTargets) {
        Tensor pos = log_sigmoid(margins);
        if (softTargets == null) return pos.mean().neg();
        Tensor neg = log_sigmoid(margins.neg());
        Tensor s = softTargets;
        return s.mul(pos).add(s.neg().add(new Scalar(1)).mul(neg)).mean().neg();
    }
}
