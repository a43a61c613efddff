package org.dnonative.train;

import org.bytedeco.pytorch.Tensor;
import org.dnonative.kernel.AmxLinear;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.FusedLinearOptions;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.torch.TorchFusedLinearDnoLoss;

/**
 * {@link PairLoss.Kind#FUSED}: the fused lm_head + loss kernel on the hidden states, so the [N,T,V]
 * logits never exist in full; grad_hidden goes back through the model and grad_weight into the
 * lm_head (the embedding when tied).
 */
final class FusedPairLoss implements PairLoss {
    private final TorchFusedLinearDnoLoss kernel = new TorchFusedLinearDnoLoss();
    private final int threads;

    FusedPairLoss(int threads) {
        this.threads = threads;
    }

    @Override
    public Kind kind() { return Kind.FUSED; }

    @Override
    public Gradients compute(CausalLM model, SequenceBatch batch, Tensor hidden, Tensor refLogps, Tensor softTargets,
                             double beta, double gradScale) {
        // The kernel computes the logits as hidden @ lm_head^T itself: a model that transforms them
        // further (Gemma's final soft-cap) would be trained on other logits than it samples from.
        if (!model.logitsAreLinear())
            throw new IllegalArgumentException("training.loss fused: this model's logits are not hidden @ lm_head^T "
                    + "(final_logit_softcapping); use training.loss native or libtorch");
        DnoLossOptions options = DnoLossOptions.defaults().withBeta((float) beta).withGradScale((float) gradScale).withThreads(threads);
        // the model's lm_head has no bias (CausalLM.logits)
        TorchFusedLinearDnoLoss.Output out = kernel.compute(hidden, model.lmHeadWeight(), null, batch.labels(), refLogps,
                softTargets, options, FusedLinearOptions.defaults().withGemm(gemm(model)));
        return new Gradients(hidden, out.gradHidden(), out.gradWeight(), out.result().loss(), out.result().rewardMargin(),
                out.result().accuracy());
    }

    /**
     * AMX's bf16x3 products for the lm_head's three GEMMs where they run (a host model on a CPU
     * with AMX, DNO_AMX not off) and the lm_head is large enough for its per-call packing to pay
     * (the same 2^16-element threshold as the sampler's fast paths, so small models, the embedded
     * demo's among them, keep OpenBLAS's float32 bits); OpenBLAS elsewhere.
     */
    static FusedLinearOptions.Gemm gemm(CausalLM model) {
        return model.largeLmHead() && !model.device().is_cuda() && AmxLinear.available() ? FusedLinearOptions.Gemm.AMX
                : FusedLinearOptions.Gemm.BLAS;
    }

    @Override
    public void close() {
        kernel.close();
    }
}
