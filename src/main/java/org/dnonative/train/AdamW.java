package org.dnonative.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay, bias-corrected moments) written with in-place libtorch ops, with
 * two parameter groups: weight decay for matrices and embeddings, none for norms and biases
 * (every parameter of rank < 2), as transformers' Trainer does. Moments are float32 tensors shaped
 * like the (float32 master) parameters. The default betas and eps are {@link TrainOptions#adamW}'s.
 */
public final class AdamW implements AutoCloseable {
    private final Map<String, Tensor> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
    private final double beta1, beta2, eps, weightDecay;
    private int step;

    public AdamW(Map<String, Tensor> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** Whether weight decay applies: not to norms and biases (rank < 2). */
    public static boolean decays(String name, Tensor p) {
        return p.dim() >= 2 && !name.contains("norm");
    }

    public List<String> noDecayNames() {
        List<String> out = new ArrayList<>();
        params.forEach((n, p) -> { if (!decays(n, p)) out.add(n); });
        return out;
    }

    public int steps() { return step; }

    /** One update with learning rate {@code lr}; parameters without a gradient are skipped. */
    public void step(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor p = e.getValue();
                Tensor grad = p.grad();
                if (!grad.defined()) continue;
                Tensor mt = m.computeIfAbsent(e.getKey(), k -> keep(torch.zeros_like(p)));
                Tensor vt = v.computeIfAbsent(e.getKey(), k -> keep(torch.zeros_like(p)));
                if (weightDecay != 0 && decays(e.getKey(), p)) p.mul_(new Scalar(1 - lr * weightDecay));
                mt.mul_(new Scalar(beta1)).add_(grad, new Scalar(1 - beta1));
                vt.mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
                Tensor denom = vt.div(new Scalar(bc2)).sqrt().add(new Scalar(eps));
                p.addcdiv_(mt, denom, new Scalar(-lr / bc1));
            }
        }
    }

    private static Tensor keep(Tensor t) {
        t.retainReference(); // outlives the step's scope
        return t;
    }

    @Override
    public void close() {
        m.values().forEach(Tensor::close);
        v.values().forEach(Tensor::close);
    }
}
