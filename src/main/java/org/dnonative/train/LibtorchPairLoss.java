package org.dnonative.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.CausalLM;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Tensors;
import org.dnonative.torch.TorchDnoReference;

/**
 * {@link PairLoss.Kind#LIBTORCH}: the reference composition in plain libtorch ops on the logits
 * [N,T,V]; autograd does the rest from the scalar loss, whose upstream gradient is gradScale.
 */
final class LibtorchPairLoss implements PairLoss {
    @Override
    public Kind kind() { return Kind.LIBTORCH; }

    @Override
    public Gradients compute(CausalLM model, SequenceBatch batch, Tensor hidden, Tensor refLogps, Tensor softTargets,
                             double beta, double gradScale) {
        Tensor logits = model.logits(hidden);
        Tensor sequences = TorchDnoReference.sequenceLogprobs(logits, batch.labels(), SequenceBatch.IGNORE, false);
        Tensor margins = TorchDnoReference.margins(sequences, refLogps, beta);
        Tensor loss = TorchDnoReference.pairLoss(margins, softTargets);
        float[] z = Tensors.toFloats(margins);
        double sum = 0, preferred = 0;
        for (float v : z) { sum += v; preferred += v > 0 ? 1 : 0; }
        Tensor upstream = torch.ones_like(loss).mul_(new Scalar(gradScale));
        return new Gradients(loss, upstream, null, loss.item_double(), sum / z.length, preferred / z.length);
    }

    @Override
    public void close() {
        // holds nothing
    }
}
