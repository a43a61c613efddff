package org.dnonative.torch;

import static org.bytedeco.pytorch.global.torch.log_sigmoid;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The DNO loss composed from libtorch ops, the way a PyTorch user writes it (log_softmax in
 * float32, gather, masked sum, pairwise log-sigmoid): the baseline our kernels are checked and
 * timed against. Differentiable: call backward() on the result.
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
        long n = logits.size(0), p = n / 2;
        Tensor mask = labels.ne(new Scalar(ignoreIndex));
        Tensor safe = labels.mul(mask.to(ScalarType.Long));  // ignored positions gather token 0, then masked out
        Tensor lp = logits.to(ScalarType.Float).log_softmax(2);
        Tensor tok = lp.gather(2, safe.unsqueeze(2)).squeeze(2).mul(mask.to(ScalarType.Float));
        Tensor s = tok.sum(new long[] {1}, false, null);
        if (average) s = s.div(mask.to(ScalarType.Float).sum(new long[] {1}, false, null).clamp_min(new Scalar(1.0)));
        Tensor r = s.sub(ref);
        Tensor z = r.narrow(0, 0, p).sub(r.narrow(0, p, p)).mul(new Scalar(beta));
        Tensor perPair = targets == null
                ? log_sigmoid(z).neg()
                : targets.mul(log_sigmoid(z)).add(targets.neg().add(new Scalar(1.0)).mul(log_sigmoid(z.neg()))).neg();
        return perPair.mean();
    }
}
