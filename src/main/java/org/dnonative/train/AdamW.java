package org.dnonative.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.dnonative.kernel.FusedAdamW;
import org.dnonative.model.Tensors;
import org.dnonative.model.Threads;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay, bias-corrected moments) with two parameter groups: weight decay
 * for matrices and embeddings, none for norms and biases (every parameter of rank < 2), as
 * transformers' Trainer does. Moments are float32 tensors shaped like the (float32 master)
 * parameters. The default betas and eps are {@link TrainOptions#adamW}'s.
 *
 * <p>Float32 parameters in host memory go through the project's kernel ({@link FusedAdamW}: one
 * pass per tensor, no temporaries, the configured compute threads, bitwise the same on every CPU
 * build and thread count); the others (CUDA, other dtypes) through the same sequence of in-place
 * libtorch ops. The two agree to float32 rounding (libtorch's vectorised square root is not always
 * correctly rounded; TrainingTest measures it).
 */
public final class AdamW implements AutoCloseable {
    private final Map<String, Tensor> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
    private final double beta1, beta2, eps, weightDecay;
    private final boolean kernel;
    private int step;

    public AdamW(Map<String, Tensor> params, double beta1, double beta2, double eps, double weightDecay) {
        this(params, beta1, beta2, eps, weightDecay, true);
    }

    /** @param kernel false: every parameter through the libtorch ops (to compare the two paths) */
    AdamW(Map<String, Tensor> params, double beta1, double beta2, double eps, double weightDecay, boolean kernel) {
        this.kernel = kernel;
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
        step(lr, 1f, false);
    }

    /**
     * One update with learning rate {@code lr} of the gradients times {@code gradScale} (gradient
     * clipping's coefficient: the gradients themselves are not rescaled first, which saves a pass);
     * with {@code zeroGrad} the gradients are left zero (the kernel does it in the same pass).
     * Parameters without a gradient are skipped.
     */
    public void step(double lr, float gradScale, boolean zeroGrad) {
        step++;
        FusedAdamW.Hyper hyper = new FusedAdamW.Hyper(lr, beta1, beta2, eps, weightDecay, step);
        double bc1 = hyper.biasCorrection1(), bc2 = hyper.biasCorrection2();
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor p = e.getValue();
                Tensor grad = p.grad();
                if (!grad.defined()) continue;
                Tensor mt = m.computeIfAbsent(e.getKey(), k -> keep(torch.zeros_like(p)));
                Tensor vt = v.computeIfAbsent(e.getKey(), k -> keep(torch.zeros_like(p)));
                if (kernel && fusable(p, grad)) {
                    FusedAdamW.step(p.numel(), p.data_ptr().address(), grad.data_ptr().address(),
                            mt.data_ptr().address(), vt.data_ptr().address(), hyper, decays(e.getKey(), p),
                            gradScale, zeroGrad, Threads.count());
                    continue;
                }
                if (gradScale != 1f) grad.mul_(new Scalar(gradScale));
                if (weightDecay != 0 && decays(e.getKey(), p)) p.mul_(new Scalar(1 - lr * weightDecay));
                mt.mul_(new Scalar(beta1)).add_(grad, new Scalar(1 - beta1));
                vt.mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
                Tensor denom = vt.div(new Scalar(bc2)).sqrt().add(new Scalar(eps));
                p.addcdiv_(mt, denom, new Scalar(-lr / bc1));
                if (zeroGrad) grad.zero_();
            }
        }
    }

    /** Whether the kernel takes this parameter: float32, in host memory, parameter and gradient contiguous. */
    static boolean fusable(Tensor p, Tensor grad) {
        return p.is_cpu() && grad.is_cpu() && Tensors.isFloat32(p) && Tensors.isFloat32(grad)
                && p.is_contiguous() && grad.is_contiguous() && p.numel() == grad.numel();
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
