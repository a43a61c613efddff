package org.dnonative.train;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.torch.TorchDnoLoss;

/**
 * {@link PairLoss.Kind#NATIVE}: the native kernel on the logits; the logits' gradient goes back. The
 * logits are those of the positions that predict response tokens, [N,R,V] (R the longest
 * response), for lm_heads of at least 2^16 elements ({@link CausalLM#largeLmHead}); smaller ones (the embedded demo's policy,
 * whose documented tables are this path's) take the logits of every position, [N,T,V], as before.
 */
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
        Tensor logits, labels;
        SequenceBatch.ResponseSlots slots = null;
        if (model.largeLmHead()) {
            // logits only where they predict a response token, [N, R, V]: the prompt positions' logits
            // are never read, and the lm_head's three products are the step's largest
            slots = batch.responseSlots();
            Tensor h = hidden.reshape(-1, hidden.size(2)).index_select(0, slots.hiddenIndex())
                    .view(batch.batch(), slots.length(), hidden.size(2));
            logits = model.logits(h).contiguous();
            labels = slots.labels();
        } else {
            logits = model.logits(hidden).contiguous();
            labels = batch.labels();
        }
        try {
            Tensor grad = torch.zeros_like(logits);
            DnoLossResult r;
            try (NoGradGuard g = new NoGradGuard()) {
                // the kernel reads the logits' memory; autograd must not see that read
                r = kernel.compute(logits.detach(), labels, refLogps, softTargets, options, grad);
            }
            return new Gradients(logits, grad, null, r.loss(), r.rewardMargin(), r.accuracy());
        } finally {
            if (slots != null) slots.close();   // autograd keeps its own reference to the index
        }
    }

    @Override
    public void close() {
        kernel.close();
    }
}
