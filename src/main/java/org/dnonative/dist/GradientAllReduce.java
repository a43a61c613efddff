package org.dnonative.dist;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.train.GradientSync;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sums the parameters' gradients over the ranks before each optimizer step, in buckets of about
 * {@value #BUCKET_BYTES} bytes (as DDP does): each bucket is the concatenation of its gradients,
 * one all-reduce, copied back. Sum, not mean: each rank's micro-batches already carry their share of
 * the global batch as their weight, so the sum is the gradient one process computes on the whole
 * batch. A parameter without a gradient on this rank (no micro-batch in this step, or unused)
 * contributes zeros, so every rank issues the same collectives; one without a gradient on any rank
 * (first a small all-reduce of which ranks have one) is left without, as in one process, where
 * AdamW skips it. All ranks get bitwise the same sum, hence, after the same clipping and AdamW
 * step, bitwise the same parameters.
 */
public final class GradientAllReduce implements GradientSync {
    static final long BUCKET_BYTES = 25L << 20;

    private final Group group;

    public GradientAllReduce(Group group) {
        this.group = group;
    }

    @Override
    public void reduce(Map<String, Tensor> parameters) {
        List<Tensor> all = new ArrayList<>(parameters.values());
        float[] has = new float[all.size()];
        for (int i = 0; i < has.length; i++) has[i] = all.get(i).grad().defined() ? 1f : 0f;
        List<Tensor> params = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            Tensor flags = group.onDevice(org.dnonative.model.Tensors.fromFloats(has, has.length));
            group.allReduceSum(flags, "the all-reduce of which gradients exist");
            float[] anyRank = org.dnonative.model.Tensors.toFloats(flags);
            for (int i = 0; i < has.length; i++) if (anyRank[i] > 0) params.add(all.get(i));
        }
        int from = 0;
        while (from < params.size()) {
            long bytes = 0;
            int to = from;
            while (to < params.size() && (to == from || bytes + params.get(to).nbytes() <= BUCKET_BYTES)) bytes += params.get(to++).nbytes();
            reduceBucket(params.subList(from, to));
            from = to;
        }
    }

    private void reduceBucket(List<Tensor> params) {
        try (PointerScope scope = new PointerScope()) {
            TensorVector grads = new TensorVector();
            for (Tensor p : params) {
                Tensor g = p.grad();
                if (!g.defined()) {
                    g = torch.zeros_like(p);
                    p.mutable_grad().put(g);
                }
                grads.push_back(g.reshape(-1));
            }
            Tensor flat = torch.cat(grads).contiguous();
            group.allReduceSum(flat, "the gradient all-reduce");
            long off = 0;
            for (Tensor p : params) {
                long n = p.numel();
                p.grad().copy_(flat.narrow(0, off, n).view(p.sizes()));
                off += n;
            }
        }
    }
}
