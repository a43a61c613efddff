package org.dnonative.torch;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.CudaFusedLinearDnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.FusedLinearDnoLoss;
import org.dnonative.kernel.FusedLinearOptions;
import org.dnonative.kernel.FusedLinearResult;
import org.dnonative.kernel.LossShape;

/**
 * The fused lm_head + DNO loss on libtorch tensors: a training step hands it the policy's final
 * hidden states and lm_head weight and gets back grad_hidden (to feed into
 * {@code hidden.backward(gradHidden)}) and grad_weight (for the lm_head's .grad), without the
 * [N,T,V] logits ever existing in full.
 *
 * <p>hidden [N,T,H], weight [V,H], bias [V] or null: one float dtype (float32, bfloat16,
 * float16) on one device; labels [N,T] int32/int64; refLogps [N], targets [P] or null (read on
 * the host). Inputs are read in place when contiguous (a contiguous copy is made otherwise);
 * gradients are fresh tensors of the inputs' dtype and device. Holds device buffers after a
 * CUDA call: close it.
 */
public final class TorchFusedLinearDnoLoss implements AutoCloseable {
    /** The loss and metrics, the chunking statistics, and the gradients (gradBias null without bias). */
    public record Output(FusedLinearResult stats, DnoLossResult result, Tensor gradHidden, Tensor gradWeight,
                         Tensor gradBias) {}

    private CudaFusedLinearDnoLoss cuda;
    private long cudaPairs;

    public Output compute(Tensor hidden, Tensor weight, Tensor bias, Tensor labels, Tensor refLogps, Tensor targets,
                          DnoLossOptions options, FusedLinearOptions fused) {
        if (hidden == null || weight == null) throw new IllegalArgumentException("hidden and weight are required");
        if (hidden.dim() != 3) throw new IllegalArgumentException("hidden must be [N,T,H], got " + TorchDnoLoss.shapeOf(hidden));
        long n = hidden.size(0), t = hidden.size(1), h = hidden.size(2);
        if (n == 0 || n % 2 != 0)
            throw new IllegalArgumentException("hidden must hold an even, non-zero number of sequences (chosen then rejected), got N=" + n);
        if (weight.dim() != 2 || weight.size(1) != h)
            throw new IllegalArgumentException("weight must be [V," + h + "], got " + TorchDnoLoss.shapeOf(weight));
        long v = weight.size(0);
        if (labels == null || labels.dim() != 2 || labels.size(0) != n || labels.size(1) != t)
            throw new IllegalArgumentException("labels must be [" + n + "," + t + "], got " + (labels == null ? "null" : TorchDnoLoss.shapeOf(labels)));
        ElementType dtype = TorchDnoLoss.elementType("hidden", hidden, true);
        if (weight.scalar_type().value != hidden.scalar_type().value)
            throw new IllegalArgumentException("weight must have hidden's dtype " + hidden.scalar_type() + ", got " + weight.scalar_type());
        if (bias != null && (bias.dim() != 1 || bias.size(0) != v || bias.scalar_type().value != hidden.scalar_type().value))
            throw new IllegalArgumentException("bias must be [" + v + "] of hidden's dtype, got " + TorchDnoLoss.shapeOf(bias) + " " + bias.scalar_type());
        ElementType labelsType = TorchDnoLoss.elementType("labels", labels, false);
        boolean onCuda = hidden.is_cuda();
        for (Tensor x : new Tensor[] {weight, bias, labels})
            if (x != null && (x.is_cuda() != onCuda || (onCuda && x.device().index() != hidden.device().index())))
                throw new IllegalArgumentException("hidden, weight, bias and labels must be on one device");
        LossShape shape = new LossShape(n / 2, t, v);
        float[] ref = TorchDnoLoss.hostFloats("refLogps", refLogps, shape.sequences());
        float[] tgt = targets == null ? null : TorchDnoLoss.hostFloats("targets", targets, shape.pairs());

        Tensor hc = hidden.detach().contiguous(), wc = weight.detach().contiguous(), lc = labels.contiguous();
        Tensor bc = bias == null ? null : bias.detach().contiguous();
        Tensor gh = torch.empty_like(hc), gw = torch.empty_like(wc), gb = bc == null ? null : torch.empty_like(bc);
        long bAddr = bc == null ? 0 : TorchDnoLoss.address(bc), gbAddr = gb == null ? 0 : TorchDnoLoss.address(gb);
        FusedLinearOptions write = fused.withAccumulate(false);
        if (onCuda) {
            long stream = TorchDnoLoss.currentStream(hidden);
            CudaFusedLinearDnoLoss k = cudaFor(shape.pairs());
            FusedLinearResult stats = k.enqueue(shape, h, dtype, TorchDnoLoss.address(hc), TorchDnoLoss.address(wc), bAddr,
                    TorchDnoLoss.address(lc), labelsType, ref, tgt, options, write, TorchDnoLoss.address(gh),
                    TorchDnoLoss.address(gw), gbAddr, stream);
            return new Output(stats, k.result(stream), gh, gw, gb);
        }
        FusedLinearResult r = FusedLinearDnoLoss.computeAt(shape, h, dtype, TorchDnoLoss.address(hc),
                TorchDnoLoss.address(wc), bAddr, TorchDnoLoss.address(lc), labelsType, ref, tgt, options, write,
                TorchDnoLoss.address(gh), TorchDnoLoss.address(gw), gbAddr);
        return new Output(r, r.result(), gh, gw, gb);
    }

    private CudaFusedLinearDnoLoss cudaFor(long pairs) {
        if (cuda == null || pairs > cudaPairs) {
            if (cuda != null) cuda.close();
            cudaPairs = Math.max(pairs, cudaPairs);
            cuda = new CudaFusedLinearDnoLoss(cudaPairs);
        }
        return cuda;
    }

    @Override
    public void close() {
        if (cuda != null) {
            cuda.close();
            cuda = null;
        }
    }
}
