package org.dnonative.train;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.torch.TorchDnoLoss;

/** {@link PairLoss.Kind#NATIVE}: the native kernel on the logits [N,T,V]; the logits' gradient goes back. */
final class NativePairLoss implements PairLoss {
    private final TorchDnoLoss kernel = new TorchDnoLoss();
    private final int threads;

    NativePairLoss(int threads) {
        this.threads = threads;
    }

    @Override
    public Kind kind() { return Kind.NATIVE; }

    @Override
    public Gradients compute(CausalLM model, SequenceBatch batch, Tensor hidden, Tensor refLogps, Tensor softTargets,
                             double beta, double gradScale) {
        DnoLossOptions options = DnoLossOptions.defaults().withBeta((float) beta).withGradScale((float) gradScale).withThreads(threads);
        Tensor logits = model.logits(hidden).contiguous();
        Tensor grad = torch.zeros_like(logits);
        DnoLossResult r;
        try (NoGradGuard g = new NoGradGuard()) {
            // the kernel reads the logits' memory; autograd must not see that read
            r = kernel.compute(logits.detach(), batch.labels(), refLogps, softTargets, options, grad);
        }
        return new Gradients(logits, grad, null, r.loss(), r.rewardMargin(), r.accuracy());
    }

    @Override
    public void close() {
        kernel.close();
    }
}
