package org.dnonative.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.AmxLinear;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The linear layers of one training forward and backward on AMX tiles ({@link AmxLinear#gemm}:
 * bf16x3, about float32 accuracy), everything else on libtorch's autograd.
 *
 * <p>Why: on a CPU core the training step is bound by its float32 products (OpenBLAS's sgemm was 66%
 * of a 1-thread step of the 39M-parameter bench model, perf, benchmarks/RESULTS.md); the AMX kernel
 * does them ~1.5x faster to about 5e-6 of the largest output. libtorch's autograd cannot call it
 * (the presets have no Java-side autograd Function), so the products leave the graph and their
 * backward is done here, by hand, between pieces of autograd:
 * <ul>
 *   <li>forward: {@code y = x Wᵀ} is computed outside autograd into a fresh leaf that requires grad
 *   (the rest of the forward continues from it); each decoder layer's input is also cut into a
 *   leaf ({@link #boundary}), so that no piece of autograd reaches further back than its layer,
 *   and so are the embedding's rows ({@link #lookup}), whose gradient is added row by row;</li>
 *   <li>backward, in reverse order of the forward: autograd from the loss's output to the leaves it
 *   reaches; then for each product, once its leaf has every contribution (all products and layer
 *   inputs that depend on it come later in the forward, so are done first),
 *   {@code dW += dYᵀ X} and {@code dX += dY W}; when the last consumer of an input X is done (q, k
 *   and v share one, gate and up another), autograd from X with dX to the earlier leaves and the
 *   parameters in between (norms, biases). Each piece is {@code torch::autograd::grad}
 *   over the parameters, so the gradients come back as tensors, not into .grad: a step may run
 *   several micro-batches at once on its workers.</li>
 * </ul>
 *
 * <p>Which products: those of a float32 CPU model with AMX whose lm_head has at least 2^16 elements
 * ({@link CausalLM#largeLmHead}: the embedded demo's tiny policy trains exactly as before), on
 * weights of at least {@link DecodeLinear#MIN_WEIGHT} elements, outside autocast;
 * {@code DNO_TRAIN_AMX=off} keeps libtorch (to compare). The same thread count gives bitwise the
 * same gradients; against libtorch's float32 products they differ by the bf16x3 rounding
 * (TrainingTapeTest bounds both against float64).
 *
 * <p>A tape opened to defer ({@link #open(CausalLM, int, boolean)}: the parts of a split micro-batch)
 * leaves the weights' and the embedding's gradients to its caller, who adds each once over all
 * the parts ({@link #addWeightGradient}, {@link #addRowGradients}).
 *
 * <p>The tape belongs to the thread that opens it (the forward's products find it there) and is
 * closed after its backward.
 */
public final class TrainingTape implements AutoCloseable {
    private static final ThreadLocal<TrainingTape> CURRENT = new ThreadLocal<>();

    private final CausalLM model;
    private final int threads;
    private final boolean deferWeights;
    private final List<WeightProduct> deferred = new ArrayList<>();
    private final List<RowGradient> deferredRows = new ArrayList<>();
    private final List<Tensor> params = new ArrayList<>();            // trainable, in parameters() order
    private final List<Integer> paramIndex = new ArrayList<>();       // their index in parameters().values()
    private final int parameterCount;
    private final Map<Tensor, Integer> indexOf = new IdentityHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final List<Tensor> held = new ArrayList<>();              // handles this tape retains
    private Input lastInput;
    private boolean closed;

    /** A leaf the forward continues from, and the gradient that reaches it. */
    private abstract static class Entry {
        final Tensor leaf;
        Tensor grad;

        Entry(Tensor leaf) { this.leaf = leaf; }
    }

    /** A layer's input cut from the graph: {@code before} (in the previous layer's graph) continues as the leaf. */
    private static final class Boundary extends Entry {
        final Tensor before;

        Boundary(Tensor before, Tensor leaf) {
            super(leaf);
            this.before = before;
        }
    }

    /** An input X [rows, in] of one or more products; {@code first} is the entry of its first product. */
    private static final class Input {
        final Tensor source;   // the caller's tensor, to know the next product of the same input
        final Tensor x;        // [rows, in], contiguous, in the graph
        Product first;
        Tensor grad;           // dX, summed over its products

        Input(Tensor source, Tensor x) {
            this.source = source;
            this.x = x;
        }
    }

    /** The embedding rows of token ids: the leaf [.., H]; its gradient goes to those rows of the weight only. */
    private static final class Lookup extends Entry {
        final Tensor ids;   // int64, flattened
        final int param;

        Lookup(Tensor leaf, Tensor ids, int param) {
            super(leaf);
            this.ids = ids;
            this.param = param;
        }
    }

    /** y = X Wᵀ: the leaf y [rows, out]. */
    private static final class Product extends Entry {
        final Input input;
        final Tensor weight;
        final int param;   // index into params, or -1 for a weight that is not trained

        Product(Tensor leaf, Input input, Tensor weight, int param) {
            super(leaf);
            this.input = input;
            this.weight = weight;
            this.param = param;
        }
    }

    private TrainingTape(CausalLM model, int threads, boolean deferWeights) {
        this.model = model;
        this.threads = threads;
        this.deferWeights = deferWeights;
        int i = 0;
        for (Tensor p : model.parameters().values()) {
            if (p.requires_grad() && !indexOf.containsKey(p)) {
                indexOf.put(p, params.size());
                params.add(p);
                paramIndex.add(i);
            }
            i++;
        }
        this.parameterCount = i;
    }

    /**
     * A tape for one training forward and backward of {@code model} on this thread, or null where its
     * products stay on libtorch (see the class comment).
     *
     * @param threads threads of each product (1 on a worker that runs one part of a batch)
     */
    public static TrainingTape open(CausalLM model, int threads) {
        return open(model, threads, false);
    }

    /**
     * The same, with the weights' own gradients ({@code dW = dYᵀ X} of each product) left to the
     * caller when {@code deferWeightGradients} ({@link #deferredWeightGradients}): parts of one
     * micro-batch that run at once then compute each weight's gradient once, over all their rows
     * ({@link #addWeightGradient}), instead of each part writing a whole gradient of every weight.
     */
    public static TrainingTape open(CausalLM model, int threads, boolean deferWeightGradients) {
        if (!applies(model)) return null;
        if (CURRENT.get() != null) throw new IllegalStateException("a training tape is already open on this thread");
        TrainingTape t = new TrainingTape(model, Math.max(1, threads), deferWeightGradients);
        CURRENT.set(t);
        return t;
    }

    /** Whether {@link #open} gives a tape for this model on this machine. */
    public static boolean applies(CausalLM model) {
        if ("off".equals(System.getenv("DNO_TRAIN_AMX")) || !enabled) return false;
        if (!model.device().is_cpu() || model.dtype() != torch.ScalarType.Float || !model.largeLmHead()) return false;
        return AmxLinear.available();
    }

    private static volatile boolean enabled = true;

    /** Switches the tape off (and on again) in this process, to compare with libtorch's products (tests, benchmarks). */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /** The tape open on this thread for {@code model}, or null. */
    static TrainingTape current(CausalLM model) {
        TrainingTape t = CURRENT.get();
        return t != null && t.model == model ? t : null;
    }

    /**
     * {@code x · wᵀ} as a leaf of this tape (viewed to x's leading shape), or null when this product
     * stays on libtorch (small weight, no grad mode, autocast, not float32).
     */
    Tensor linear(Tensor x, Tensor w) {
        if (!GradMode.is_enabled() || torch.is_autocast_enabled(torch.DeviceType.CPU)) return null;
        if (w.dim() != 2 || w.numel() < DecodeLinear.MIN_WEIGHT || !w.is_cpu() || !Tensors.isFloat32(w)
                || !w.is_contiguous() || !x.is_cpu() || !Tensors.isFloat32(x) || x.size(-1) != w.size(1)) return null;
        long in = w.size(1), out = w.size(0);
        Input input = lastInput != null && lastInput.source == x ? lastInput : null;
        if (input == null) {
            input = new Input(x, hold(x.reshape(-1, in).contiguous()));
            lastInput = input;
        }
        long rows = input.x.size(0);
        Tensor y = hold(torch.empty(new long[]{rows, out}, Tensors.options(Tensors.FLOAT), null));
        try (NoGradGuard g = new NoGradGuard()) {
            AmxLinear.gemm(false, true, rows, out, in, 1f, input.x.data_ptr().address(), in, w.data_ptr().address(), in,
                    0f, y.data_ptr().address(), out, threads);
        }
        y.requires_grad_(true);
        Integer p = indexOf.get(w);
        if (p == null)
            for (int i = 0; i < params.size() && p == null; i++) if (params.get(i).is_same(w)) p = i;
        Product e = new Product(y, input, w, p == null ? -1 : p);
        if (input.first == null) input.first = e;
        entries.add(e);
        long[] shape = x.sizes().vec().get();
        shape[shape.length - 1] = out;
        return y.view(shape);
    }

    /**
     * The rows of {@code weight} [V, H] for int64 {@code ids} as a leaf of this tape, or null where
     * autograd keeps the lookup (a weight not trained here, no grad mode). Why: autograd's backward
     * of an embedding writes a dense [V, H] gradient (zeros, then the rows added), the size of the
     * vocabulary times the hidden size, per backward; here the rows are added where the weight's
     * gradient already is (a tied lm_head's), or into one dense gradient per micro-batch.
     */
    Tensor lookup(Tensor weight, Tensor ids) {
        if (!GradMode.is_enabled() || !weight.requires_grad() || !weight.is_cpu() || !Tensors.isFloat32(weight)) return null;
        Integer p = indexOf.get(weight);
        if (p == null) return null;
        Tensor rows;
        try (NoGradGuard g = new NoGradGuard()) {
            rows = torch.embedding(weight, ids);
        }
        Tensor leaf = hold(rows.requires_grad_(true));
        entries.add(new Lookup(leaf, hold(ids.reshape(-1).contiguous()), p));
        lastInput = null;
        return new Tensor(leaf);   // the caller's own handle (the forward closes its layers' inputs)
    }

    /** A decoder layer's input x continued as a leaf: autograd of this layer stops there. */
    Tensor boundary(Tensor x) {
        if (!GradMode.is_enabled() || !x.requires_grad()) return x;
        if (!entries.isEmpty() && entries.get(entries.size() - 1) instanceof Lookup l && l.leaf.is_same(x)) return x;   // a leaf already
        Tensor leaf = hold(x.detach().requires_grad_(true));
        entries.add(new Boundary(hold(new Tensor(x)), leaf));
        lastInput = null;
        return leaf;
    }

    /**
     * The backward of the recorded forward from {@code output} with upstream gradient {@code gradOutput}:
     * one gradient per parameter, in {@code model.parameters().values()} order (null where none
     * reaches it). Each returned tensor is retained for the caller, who closes it.
     */
    public Tensor[] backward(Tensor output, Tensor gradOutput) {
        if (closed) throw new IllegalStateException("the training tape is closed");
        Tensor[] grads = new Tensor[params.size()];
        boolean[] owned = new boolean[params.size()];
        try (PointerScope scope = new PointerScope()) {
            piece(output, gradOutput, entries.size(), grads, owned);
            for (int i = entries.size() - 1; i >= 0; i--) {
                Entry e = entries.get(i);
                if (e instanceof Boundary b) {
                    if (b.grad != null) piece(b.before, b.grad, i, grads, owned);
                    continue;
                }
                if (e instanceof Lookup l) {
                    if (l.grad == null) continue;
                    Tensor rows = l.grad.reshape(-1, l.grad.size(-1)).contiguous();
                    if (deferWeights) {
                        deferredRows.add(new RowGradient(paramIndex.get(l.param), keep(l.ids.detach()), keep(rows.detach())));
                        continue;
                    }
                    int j = l.param;
                    if (grads[j] != null && !owned[j]) {
                        Tensor copy = keep(grads[j].contiguous().clone());
                        grads[j].close();
                        grads[j] = copy;
                    } else if (grads[j] == null) {
                        grads[j] = keep(torch.empty(params.get(j).sizes().vec().get(), Tensors.options(Tensors.FLOAT), null).zero_());
                    }
                    owned[j] = true;
                    grads[j].index_add_(0, l.ids, rows);
                    continue;
                }
                Product p = (Product) e;
                Input in = p.input;
                if (p.grad != null) {
                    Tensor dy = p.grad.contiguous();
                    long rows = dy.size(0), out = dy.size(1), k = in.x.size(1);
                    if (p.param >= 0 && deferWeights) {
                        // detached: the record must not keep the part's graph alive
                        deferred.add(new WeightProduct(paramIndex.get(p.param), keep(dy.detach()), keep(in.x.detach())));
                    } else if (p.param >= 0) {   // dW (+)= dYᵀ X
                        int j = p.param;
                        boolean fresh = grads[j] == null;
                        if (!fresh && !owned[j]) {   // autograd's tensor (a tied lm_head's embedding): ours from here
                            Tensor copy = keep(grads[j].contiguous().clone());
                            grads[j].close();
                            grads[j] = copy;
                            owned[j] = true;
                        }
                        if (fresh) {
                            grads[j] = keep(torch.empty(new long[]{out, k}, Tensors.options(Tensors.FLOAT), null));
                            owned[j] = true;
                        }
                        AmxLinear.gemm(true, false, out, k, rows, 1f, dy.data_ptr().address(), out,
                                in.x.data_ptr().address(), k, fresh ? 0f : 1f, grads[j].data_ptr().address(), k, threads);
                    }
                    if (in.x.requires_grad()) {   // dX (+)= dY W
                        boolean fresh = in.grad == null;
                        if (fresh) in.grad = hold(torch.empty(new long[]{rows, k}, Tensors.options(Tensors.FLOAT), null));
                        AmxLinear.gemm(false, false, rows, k, out, 1f, dy.data_ptr().address(), out,
                                p.weight.data_ptr().address(), k, fresh ? 0f : 1f, in.grad.data_ptr().address(), k, threads);
                    }
                }
                if (in.first == p && in.grad != null) piece(in.x, in.grad, i, grads, owned);
            }
        } catch (RuntimeException | Error ex) {
            for (Tensor g : grads) if (g != null) g.close();
            throw ex;
        }
        Tensor[] out = new Tensor[parameterCount];
        for (int j = 0; j < params.size(); j++) out[paramIndex.get(j)] = grads[j];
        return out;
    }

    /**
     * A weight's gradient left to the caller: {@code dW += dyᵀ x}, dy [rows, out] and x [rows, in]
     * contiguous float32, both retained for the caller, who closes them.
     *
     * @param parameter the weight's index in {@code model.parameters().values()}
     */
    public record WeightProduct(int parameter, Tensor dy, Tensor x) implements AutoCloseable {
        @Override
        public void close() {
            dy.close();
            x.close();
        }
    }

    /**
     * An embedding's gradient left to the caller: {@code grad[ids[i]] += rows[i]}, ids int64 [n], rows
     * [n, H], both retained for the caller, who closes them.
     */
    public record RowGradient(int parameter, Tensor ids, Tensor rows) implements AutoCloseable {
        @Override
        public void close() {
            ids.close();
            rows.close();
        }
    }

    /** The embedding gradients a deferring tape's {@link #backward} left; the caller owns them. */
    public List<RowGradient> deferredRowGradients() {
        List<RowGradient> out = new ArrayList<>(deferredRows);
        deferredRows.clear();
        return out;
    }

    /**
     * {@code weight.grad[ids] += rows} for each of {@code rows} in order (one dense gradient of zeros
     * first where the weight has none).
     */
    public static void addRowGradients(Tensor weight, List<RowGradient> rows) {
        if (rows.isEmpty()) return;
        try (PointerScope scope = new PointerScope()) {
            Tensor grad = weight.grad();
            if (!grad.defined()) {
                grad = torch.empty(weight.sizes().vec().get(), Tensors.options(Tensors.FLOAT), null).zero_();
                weight.mutable_grad().put(grad);
            }
            for (RowGradient r : rows) grad.index_add_(0, r.ids(), r.rows());
        }
    }

    /** The weight gradients a deferring tape's {@link #backward} left, in the order it met them; the caller owns them. */
    public List<WeightProduct> deferredWeightGradients() {
        List<WeightProduct> out = new ArrayList<>(deferred);
        deferred.clear();
        return out;
    }

    /**
     * {@code weight.grad += Σ dyᵀ x} over {@code products} (all of this weight, in a fixed order) as
     * one product over their rows stacked in that order, on AMX with {@code threads} threads; a
     * weight without a gradient yet gets this one.
     */
    public static void addWeightGradient(Tensor weight, List<WeightProduct> products, int threads) {
        if (products.isEmpty()) return;
        try (PointerScope scope = new PointerScope()) {
            Tensor dy, x;
            if (products.size() == 1) {
                dy = products.get(0).dy();
                x = products.get(0).x();
            } else {
                TensorVector dys = new TensorVector(), xs = new TensorVector();
                for (WeightProduct p : products) {
                    dys.push_back(p.dy());
                    xs.push_back(p.x());
                }
                dy = torch.cat(dys, 0);
                x = torch.cat(xs, 0);
            }
            long rows = dy.size(0), out = dy.size(1), k = x.size(1);
            Tensor grad = weight.grad();
            boolean fresh = !grad.defined();
            boolean direct = !fresh && grad.is_contiguous() && Tensors.isFloat32(grad);
            Tensor target = direct ? grad : torch.empty(new long[]{out, k}, Tensors.options(Tensors.FLOAT), null);
            AmxLinear.gemm(true, false, out, k, rows, 1f, dy.data_ptr().address(), out, x.data_ptr().address(), k,
                    direct ? 1f : 0f, target.data_ptr().address(), k, threads);
            if (fresh) weight.mutable_grad().put(target);
            else if (!direct) grad.add_(target);
        }
    }

    /**
     * Autograd from {@code out} with gradient {@code grad} to the leaves of entries [the last
     * boundary before {@code upTo}, upTo) and to the parameters: their gradients added to the
     * entries' and to {@code grads}.
     */
    private void piece(Tensor out, Tensor grad, int upTo, Tensor[] grads, boolean[] owned) {
        if (!out.requires_grad()) return;
        int from = upTo;
        while (from > 0 && !(entries.get(from - 1) instanceof Boundary)) from--;
        if (from > 0) from--;   // the boundary itself
        List<Entry> leaves = entries.subList(from, upTo);
        TensorVector inputs = new TensorVector();
        for (Entry e : leaves) inputs.push_back(e.leaf);
        for (Tensor p : params) inputs.push_back(p);
        // retain_graph: pieces share nodes (a residual add is reached from two pieces of its layer)
        TensorVector got = torch.grad(new TensorVector(out), inputs, new TensorVector(grad), new BoolOptional(true), false, true);
        for (int i = 0; i < leaves.size(); i++) {
            Tensor t = got.get(i);
            if (!t.defined()) continue;
            Entry e = leaves.get(i);
            e.grad = e.grad == null ? hold(new Tensor(t)) : hold(e.grad.add(t));
        }
        for (int j = 0; j < params.size(); j++) {
            Tensor t = got.get(leaves.size() + j);
            if (!t.defined()) continue;
            if (grads[j] == null) grads[j] = keep(new Tensor(t));
            else if (owned[j]) grads[j].add_(t);
            else {
                Tensor sum = keep(grads[j].add(t));
                grads[j].close();
                grads[j] = sum;
                owned[j] = true;
            }
        }
    }

    private Tensor hold(Tensor t) {
        t.retainReference();
        held.add(t);
        return t;
    }

    private static Tensor keep(Tensor t) {
        t.retainReference();
        return t;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (CURRENT.get() == this) CURRENT.remove();
        for (Tensor t : held) t.releaseReference();
        held.clear();
        for (WeightProduct w : deferred) w.close();   // not taken (a failed backward)
        deferred.clear();
        for (RowGradient r : deferredRows) r.close();
        deferredRows.clear();
        entries.clear();
        lastInput = null;
    }
}
