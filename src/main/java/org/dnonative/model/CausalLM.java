package org.dnonative.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * A decoder-only transformer in the Llama layout (Llama 2/3, SmolLM, Mistral), Qwen2 (q/k/v
 * biases), Qwen3 (per-head q/k RMSNorm) or Gemma 3 (scaled embeddings, (1+w) RMSNorm, norms before
 * and after attention and MLP, GeGLU, query_pre_attn_scalar, final-logit soft-capping), computed
 * with libtorch ops exactly as transformers' eager implementation does: RMSNorm in float32, RoPE
 * (default, linear or llama3 scaling; Gemma 3 has one for sliding and one for full layers),
 * grouped-query attention with a float32 softmax, full or sliding-window causal masks per layer,
 * gated MLP, tied or untied lm_head.
 *
 * <p>Parameters are float32 leaf tensors named as in the HuggingFace checkpoint ({@link #parameters()}),
 * so the optimizer and the checkpoint writer see the same names. Inputs are int64 token ids [B,T];
 * positions and a key mask make left-padded batches work.
 *
 * <p>Long because the forward pass is one piece (embedding, layers, norm, head) whose parts must
 * match transformers' op for op; loading and saving checkpoints are in {@link CheckpointIO}.
 */
public final class CausalLM implements AutoCloseable {
    private static final double MASKED = -3.4028234663852886e38; // torch.finfo(float32).min, as transformers uses

    private final ModelConfig config;
    private final Device device;
    private final Map<String, Tensor> params;
    private final List<ModelConfig.RopeScaling> ropes;   // the distinct RoPEs, indexed by Layer.rope
    private final Tensor[] invFreq;
    private final Layer[] layers;
    private final Tensor embed, finalNorm, lmHead;
    private final boolean gemma;
    private final torch.ScalarType dtype;
    /** The file mappings that back float32 CPU parameters (CheckpointIO): reachable while the parameters live. */
    private List<java.nio.ByteBuffer> mappings = List.of();
    /** bf16 copies of the large matrices, read by the decode step's kernel ({@link #withBf16DecodeWeights}); empty otherwise. */
    private final Map<Tensor, Tensor> decodeBf16;
    /** AMX-packed copies of the large matrices, for products of many rows without autograd ({@link #withAmxWeights}); empty otherwise. */
    private final Map<Tensor, ManyRowLinear.Packed> amxPacked;
    /** False for a {@link #withBf16DecodeWeights} or {@link #withAmxWeights} view, which shares its parameters with the model it came from. */
    private final boolean ownsParams;

    /**
     * One decoder layer's weights (biases and the Qwen3/Gemma norms null where the architecture has
     * none), its attention window (null = full) and the index of its RoPE.
     */
    private record Layer(Tensor inputNorm, Tensor q, Tensor qb, Tensor k, Tensor kb, Tensor v, Tensor vb, Tensor o, Tensor ob,
                         Tensor postNorm, Tensor gate, Tensor gateB, Tensor up, Tensor upB, Tensor down, Tensor downB,
                         Tensor qNorm, Tensor kNorm, Tensor preFfnNorm, Tensor postFfnNorm, Integer window, int rope) {}

    CausalLM(ModelConfig config, Map<String, Tensor> params, Device device) {
        this(config, params, device, new java.util.IdentityHashMap<>(), new java.util.IdentityHashMap<>(), true);
    }

    private CausalLM(ModelConfig config, Map<String, Tensor> params, Device device, Map<Tensor, Tensor> decodeBf16,
                     Map<Tensor, ManyRowLinear.Packed> amxPacked, boolean ownsParams) {
        this.decodeBf16 = decodeBf16;
        this.amxPacked = amxPacked;
        this.ownsParams = ownsParams;
        this.config = config;
        this.device = device;
        this.params = Collections.unmodifiableMap(params);
        gemma = config.architecture().gemma();
        ropes = new ArrayList<>();
        for (ModelConfig.LayerAttention a : config.layerAttention()) if (!ropes.contains(a.rope())) ropes.add(a.rope());
        embed = params.get("model.embed_tokens.weight");
        finalNorm = params.get("model.norm.weight");
        lmHead = config.tieWordEmbeddings() ? embed : params.get("lm_head.weight");
        dtype = embed.scalar_type().intern();   // JavaCPP returns a fresh enum object: intern() gives the constant
        layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            ModelConfig.LayerAttention a = config.layerAttention().get(i);
            layers[i] = new Layer(params.get(p + "input_layernorm.weight"),
                    params.get(p + "self_attn.q_proj.weight"), params.get(p + "self_attn.q_proj.bias"),
                    params.get(p + "self_attn.k_proj.weight"), params.get(p + "self_attn.k_proj.bias"),
                    params.get(p + "self_attn.v_proj.weight"), params.get(p + "self_attn.v_proj.bias"),
                    params.get(p + "self_attn.o_proj.weight"), params.get(p + "self_attn.o_proj.bias"),
                    params.get(p + "post_attention_layernorm.weight"),
                    params.get(p + "mlp.gate_proj.weight"), params.get(p + "mlp.gate_proj.bias"),
                    params.get(p + "mlp.up_proj.weight"), params.get(p + "mlp.up_proj.bias"),
                    params.get(p + "mlp.down_proj.weight"), params.get(p + "mlp.down_proj.bias"),
                    params.get(p + "self_attn.q_norm.weight"), params.get(p + "self_attn.k_norm.weight"),
                    params.get(p + "pre_feedforward_layernorm.weight"), params.get(p + "post_feedforward_layernorm.weight"),
                    a.window(), ropes.indexOf(a.rope()));
        }
        invFreq = new Tensor[ropes.size()];
        for (int r = 0; r < invFreq.length; r++)
            invFreq[r] = Tensors.fromFloats(inverseFrequencies(config.headDim(), ropes.get(r)), config.headDim() / 2).to(device, FLOAT_TYPE());
    }

    private static torch.ScalarType FLOAT_TYPE() { return torch.ScalarType.Float; }

    /** Every parameter's name and shape in the HuggingFace layout, in checkpoint order. */
    public static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize(), qd = (long) c.numHeads() * c.headDim(), kvd = (long) c.numKvHeads() * c.headDim(), f = c.intermediateSize();
        boolean qkvBias = c.attentionBias();
        boolean oBias = c.attentionBias() && c.architecture() != ModelConfig.Architecture.QWEN2;  // Qwen2: o_proj never has one
        boolean qkNorm = c.architecture().qkNorm(), gemma = c.architecture().gemma();
        m.put("model.embed_tokens.weight", new long[]{c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[]{h});
            m.put(p + "self_attn.q_proj.weight", new long[]{qd, h});
            if (qkvBias) m.put(p + "self_attn.q_proj.bias", new long[]{qd});
            m.put(p + "self_attn.k_proj.weight", new long[]{kvd, h});
            if (qkvBias) m.put(p + "self_attn.k_proj.bias", new long[]{kvd});
            m.put(p + "self_attn.v_proj.weight", new long[]{kvd, h});
            if (qkvBias) m.put(p + "self_attn.v_proj.bias", new long[]{kvd});
            m.put(p + "self_attn.o_proj.weight", new long[]{h, qd});
            if (oBias) m.put(p + "self_attn.o_proj.bias", new long[]{h});
            if (qkNorm) {
                m.put(p + "self_attn.q_norm.weight", new long[]{c.headDim()});
                m.put(p + "self_attn.k_norm.weight", new long[]{c.headDim()});
            }
            m.put(p + "post_attention_layernorm.weight", new long[]{h});
            if (gemma) {
                m.put(p + "pre_feedforward_layernorm.weight", new long[]{h});
                m.put(p + "post_feedforward_layernorm.weight", new long[]{h});
            }
            m.put(p + "mlp.gate_proj.weight", new long[]{f, h});
            if (c.mlpBias()) m.put(p + "mlp.gate_proj.bias", new long[]{f});
            m.put(p + "mlp.up_proj.weight", new long[]{f, h});
            if (c.mlpBias()) m.put(p + "mlp.up_proj.bias", new long[]{f});
            m.put(p + "mlp.down_proj.weight", new long[]{h, f});
            if (c.mlpBias()) m.put(p + "mlp.down_proj.bias", new long[]{h});
        }
        m.put("model.norm.weight", new long[]{h});
        if (!c.tieWordEmbeddings()) m.put("lm_head.weight", new long[]{c.vocabSize(), h});
        return m;
    }

    /** Loads config.json and the safetensors weights of a HuggingFace model directory. */
    public static CausalLM load(Path dir, Device device) {
        ModelConfig config = ModelConfig.load(dir);
        List<java.nio.ByteBuffer> mappings = new ArrayList<>();
        Map<String, Tensor> params = CheckpointIO.readWeights(dir, config, device, mappings);
        CausalLM m = new CausalLM(config, params, device);
        m.mappings = mappings;
        return m;
    }

    /**
     * A randomly initialised model as transformers initialises one: normal(0, initializer_range) for
     * matrices and embeddings, ones for norms (zeros for Gemma's, which scale by 1+w), zeros for
     * biases; deterministic for a seed.
     */
    public static CausalLM random(ModelConfig config, long seed, Device device) {
        double std = config.raw().path("initializer_range").asDouble(0.02);
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expectedShapes(config).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            long n = 1;
            for (long d : shape) n *= d;
            float[] v = new float[Math.toIntExact(n)];
            if (name.endsWith("norm.weight")) java.util.Arrays.fill(v, config.architecture().gemma() ? 0f : 1f);
            else if (!name.endsWith(".bias")) for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * std);
            params.put(name, prepare(Tensors.fromFloats(v, shape), device));
        }
        return new CausalLM(config, params, device);
    }

    /** A float32 leaf parameter on {@code device}; the CPU staging copy is freed at once (not left to the GC). */
    static Tensor prepare(Tensor cpuFloat, Device device) {
        Tensor t = cpuFloat;
        if (device.is_cuda()) {
            t = cpuFloat.to(device, torch.ScalarType.Float);
            cpuFloat.close();
        }
        t.set_requires_grad(true);
        return t;
    }

    /**
     * A no-grad inference copy with the parameters cast to {@code dtype} (bfloat16 for sampling on
     * CPUs with AVX-512 BF16 / AMX): half the bytes per decoding step, which is what a step on the
     * CPU waits for. Not for training or scoring: those keep float32 (the master weights, and log-probs
     * that enter the loss). The caller closes it.
     */
    public CausalLM inferenceCopy(torch.ScalarType dtype) {
        Map<String, Tensor> cast = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : params.entrySet())
                cast.put(e.getKey(), e.getValue().detach().to(device, dtype).clone());
        }
        return new CausalLM(config, cast, device);
    }

    /**
     * A view of this float32 CPU model that shares its parameters and adds bf16 copies of its large
     * matrices (at least {@link DecodeLinear#MIN_WEIGHT} elements) for the decode step: a sampled
     * token's products then read half the bytes, widened exactly to float32 in the kernel, with
     * float32 activations and sums; everything else (prefill, scoring, training, norms, attention)
     * stays float32. The only error against float32 is the weights' rounding to bf16. Close the view
     * before the model; closing it frees only the copies. For other models: null.
     */
    public CausalLM withBf16DecodeWeights() {
        if (!device.is_cpu() || dtype != torch.ScalarType.Float) return null;
        Map<Tensor, Tensor> copies = new java.util.IdentityHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : params.values())
                if (p.dim() == 2 && p.numel() >= DecodeLinear.MIN_WEIGHT && !copies.containsKey(p)) {
                    Tensor c = p.detach().to(torch.ScalarType.BFloat16).contiguous();
                    c.retainReference();   // owned by the view until it closes
                    copies.put(p, c);
                }
        }
        CausalLM view = new CausalLM(config, params, device, copies, new java.util.IdentityHashMap<>(), false);
        view.mappings = mappings;
        return view;
    }

    /**
     * A view of this float32 CPU model that shares its parameters and adds AMX-packed copies of its
     * large matrices: forward passes of more than {@link org.dnonative.kernel.SmallLinear#MAX_EFFICIENT_ROWS}
     * rows without autograd (scoring, prefill) then multiply on AMX tiles in bf16x3, to about
     * float32 accuracy ({@link org.dnonative.kernel.AmxLinear}); the rest is unchanged. The packs are
     * a snapshot: make the view after the last change to the weights, and close it before the model
     * (closing frees only the packs). Null where the kernel does not run here, for other models, or
     * when nothing is large enough to pack.
     *
     * @param threads threads that pack the matrices (0 = all cores)
     */
    public CausalLM withAmxWeights(int threads) {
        if (!device.is_cpu() || dtype != torch.ScalarType.Float || !ManyRowLinear.enabled()) return null;
        Map<Tensor, ManyRowLinear.Packed> packs = ManyRowLinear.pack(params.values(), threads);
        if (packs.isEmpty()) return null;
        CausalLM view = new CausalLM(config, params, device, new java.util.IdentityHashMap<>(), packs, false);
        view.mappings = mappings;
        return view;
    }

    /**
     * Whether sampling may prefill each distinct prompt once for all its samples: a float32 CPU
     * model whose matrices are all ones the decode kernel takes (at least {@link DecodeLinear#MIN_WEIGHT}
     * elements), so that the embedded demo's tiny policy prefills every row as before.
     */
    boolean sharesPrefill() {
        if (!prefillSharing || !device.is_cpu() || dtype != FLOAT_TYPE()) return false;
        for (Tensor p : params.values()) if (p.dim() == 2 && p.numel() < DecodeLinear.MIN_WEIGHT) return false;
        return true;
    }

    /** Prefill sharing in use; tests switch it off to compare. */
    static volatile boolean prefillSharing = true;

    /** The parameters' dtype (float32 except for an {@link #inferenceCopy}). */
    public torch.ScalarType dtype() { return dtype; }

    /** An independent copy (same config, cloned parameters) on {@code target}: e.g. a frozen reference. */
    public CausalLM copy(Device target) {
        Map<String, Tensor> cloned = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor c = e.getValue().detach().to(target, torch.ScalarType.Float).clone();
                c.set_requires_grad(true);
                cloned.put(e.getKey(), c);
            }
        }
        return new CausalLM(config, cloned, target);
    }

    public ModelConfig config() { return config; }

    public Device device() { return device; }

    /** Parameters by HuggingFace name (a tied lm_head is not listed separately). */
    public Map<String, Tensor> parameters() { return params; }

    /**
     * The output projection [V,H]: the embedding matrix when tied. Its gradient accumulates with the
     * embedding's. The logits are hidden · this only when {@link #logitsAreLinear()}.
     */
    public Tensor lmHeadWeight() { return lmHead; }

    /**
     * Whether the lm_head has at least 2^16 elements ({@link DecodeLinear#MIN_WEIGHT}): the size from
     * which the training fast paths that round differently (shared prompts, response-only logits,
     * AMX in the fused loss) apply, as the sampler's do. The embedded demo's policy is below it, so
     * its documented tables stand.
     */
    public boolean largeLmHead() { return lmHead.numel() >= DecodeLinear.MIN_WEIGHT; }

    /**
     * False when the logits are soft-capped (Gemma's final_logit_softcapping): then anything that
     * computes them from the hidden states and {@link #lmHeadWeight()} itself (the fused lm_head
     * loss) would compute other logits than {@link #logits}.
     */
    public boolean logitsAreLinear() { return config.finalLogitSoftcap() == null; }

    /** The full-attention RoPE's inverse frequencies (the only RoPE outside Gemma 3). */
    static float[] inverseFrequencies(ModelConfig c) { return inverseFrequencies(c.headDim(), c.rope()); }

    static float[] inverseFrequencies(int dim, ModelConfig.RopeScaling r) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) dim;          // float32, as transformers computes it
            float p = (float) Math.pow(r.theta(), exponent);
            inv[i] = 1f / p;
        }
        if (r.type().equals("linear")) {
            for (int i = 0; i < inv.length; i++) inv[i] = (float) (inv[i] / r.factor());
        } else if (r.type().equals("llama3")) {
            double lowWavelen = r.originalMaxPositionEmbeddings() / r.lowFreqFactor();
            double highWavelen = r.originalMaxPositionEmbeddings() / r.highFreqFactor();
            for (int i = 0; i < inv.length; i++) {
                double f = inv[i];
                double wavelen = 2 * Math.PI / f;
                double scaled = wavelen > lowWavelen ? f / r.factor() : f;
                boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
                if (medium) {
                    double smooth = (r.originalMaxPositionEmbeddings() / wavelen - r.lowFreqFactor()) / (r.highFreqFactor() - r.lowFreqFactor());
                    scaled = (1 - smooth) * scaled / r.factor() + smooth * scaled;
                }
                inv[i] = (float) scaled;
            }
        }
        return inv;
    }

    /**
     * The final hidden states (after the last norm) [B,T,H], with autograd when grad mode is on.
     *
     * @param inputIds  int64 [B,T] on this model's device
     * @param positions int64 [B,T] RoPE positions, or null for 0..T-1 (plus the cache length)
     * @param keyMask   bool [B,T] (without cache) true for real tokens, or null when every token is real
     *                  (right padding never needs a mask: the causal mask already hides later slots)
     * @param cache     a KV cache to append to and attend over, or null
     */
    public Tensor hidden(Tensor inputIds, Tensor positions, Tensor keyMask, KvCache cache) {
        long b = inputIds.size(0), t = inputIds.size(1);
        int start = cache == null ? 0 : cache.length();
        Tensor result;
        try (PointerScope scope = new PointerScope()) {
            if (positions == null) {
                positions = arange(new Scalar(start), new Scalar(start + t), new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device)))
                        .unsqueeze(0).expand(b, t);
            }
            Tensor keyValid; // [B, Tk] or null
            long tk = start + t;
            if (cache != null) {
                Tensor slot = cache.keyMask.narrow(1, start, t);
                if (keyMask == null) slot.fill_(new Scalar(1)); else slot.copy_(keyMask);
                keyValid = cache.keyMask.narrow(1, 0, tk);
            } else {
                keyValid = keyMask;
            }
            // one mask per distinct window and one cos/sin pair per distinct RoPE, shared by the layers
            Map<Integer, Tensor> blockedByWindow = new java.util.HashMap<>();
            for (Layer l : layers)
                blockedByWindow.computeIfAbsent(l.window == null ? 0 : l.window, w -> attentionBlocked(keyValid, tk, t, start, w));
            Tensor[] cos = new Tensor[invFreq.length], sin = new Tensor[invFreq.length];
            ropeTables(positions, cos, sin);

            Tensor x = embed(inputIds);
            TrainingTape tape = TrainingTape.current(this);
            org.dnonative.kernel.ElementType fused = t == 1 && cache != null ? fusedDecodeWeights() : null;
            if (fused != null) {
                x = x.contiguous();
                Tensor c = cos[0].contiguous(), sn = sin[0].contiguous();
                for (int i = 0; i < layers.length; i++) fusedDecodeLayer(x, layers[i], i, fused, c, sn, cache, start);
            } else for (int i = 0; i < layers.length; i++) {
                // One scope per layer: its temporaries (attention scores above all) are freed when the
                // layer ends, not at the end of the forward; autograd keeps what backward needs itself.
                Tensor next;
                try (PointerScope layerScope = new PointerScope()) {
                    Layer l = layers[i];
                    Tensor blocked = blockedByWindow.get(l.window == null ? 0 : l.window);
                    int li = i;
                    Tensor c = cos[l.rope], sn = sin[l.rope];
                    Tensor in = tape == null ? x : tape.boundary(x);
                    next = Scopes.keep(layer(in, l, h -> attention(h, l, li, c, sn, blocked, cache, start)));
                }
                x.close();
                x = Scopes.adopt(next);
            }
            result = Scopes.keep(norm(x, finalNorm));
        }
        if (cache != null) cache.advance((int) t);
        return Scopes.adopt(result);
    }

    /**
     * The weight type of the one-call decode layer ({@link org.dnonative.kernel.LlamaDecodeLayer}),
     * or null when this model's decode step stays on libtorch ops: it takes Llama-family layers (q/k/v
     * biases, q/k norms and sliding windows included; no o or MLP biases; SiLU; one RoPE; not Gemma) of a float32 CPU model without
     * autograd, whose matrices are all large enough for {@link DecodeLinear} (so the embedded
     * demo's tiny policy decodes exactly as before); bf16 when the view holds bf16 copies of all.
     * {@code DNO_DECODE_FUSED=off} keeps libtorch (to compare the two).
     */
    private org.dnonative.kernel.ElementType fusedDecodeWeights() {
        if (!fusedDecode || GradMode.is_enabled() || torch.is_autocast_enabled(torch.DeviceType.CPU)) return null;
        if (!fusedLayoutKnown) {   // the model's layers and weights do not change: decided once, not every step
            fusedLayout = fusedDecodeLayout();
            fusedLayoutKnown = true;
        }
        return fusedLayout;
    }

    private org.dnonative.kernel.ElementType fusedLayout;
    private boolean fusedLayoutKnown;

    /** What {@link #fusedDecodeWeights} says of this model's layers and weights, grad and autocast aside. */
    private org.dnonative.kernel.ElementType fusedDecodeLayout() {
        if (!DecodeLinear.enabled() || !device.is_cpu() || dtype != FLOAT_TYPE()) return null;
        if (gemma || config.activation() != ModelConfig.Activation.SILU || invFreq.length != 1) return null;
        int bf16 = 0, matrices = 0;
        for (Layer l : layers) {
            if (l.ob != null || l.gateB != null || l.upB != null || l.downB != null) return null;
            for (Tensor t : new Tensor[]{l.qb, l.kb, l.vb, l.qNorm, l.kNorm})
                if (t != null && !t.is_contiguous()) return null;
            for (Tensor w : new Tensor[]{l.q, l.k, l.v, l.o, l.gate, l.up, l.down}) {
                if (w.numel() < DecodeLinear.MIN_WEIGHT || !w.is_contiguous()) return null;
                matrices++;
                if (decodeBf16.containsKey(w)) bf16++;
            }
        }
        if (bf16 == matrices) return org.dnonative.kernel.ElementType.BFLOAT16;
        return bf16 == 0 ? org.dnonative.kernel.ElementType.FLOAT32 : null;
    }

    /** The one-call decode layer in use (DNO_DECODE_FUSED=off: not); tests switch it to compare the two paths. */
    static volatile boolean fusedDecode = !"off".equals(System.getenv("DNO_DECODE_FUSED"));

    /** One decode step of layer i through the native layer, on x [B,1,H] (contiguous) in place. */
    private void fusedDecodeLayer(Tensor x, Layer l, int i, org.dnonative.kernel.ElementType type, Tensor cos, Tensor sin,
                                  KvCache cache, int start) {
        boolean bf = type == org.dnonative.kernel.ElementType.BFLOAT16;
        java.util.function.Function<Tensor, Long> addr = w -> (bf ? decodeBf16.get(w) : w).data_ptr().address();
        java.util.function.Function<Tensor, Long> opt = t -> t == null ? 0L : t.data_ptr().address();
        Tensor keys = cache.keys[i], values = cache.values[i], valid = cache.keyMask;
        org.dnonative.kernel.LlamaDecodeLayer.apply(
                new org.dnonative.kernel.LlamaDecodeLayer.Shape(x.size(0), config.hiddenSize(), config.numHeads(),
                        config.numKvHeads(), config.headDim(), config.intermediateSize()),
                x.data_ptr().address(),
                new org.dnonative.kernel.LlamaDecodeLayer.Weights(l.inputNorm.data_ptr().address(), l.postNorm.data_ptr().address(),
                        type, addr.apply(l.q), addr.apply(l.k), addr.apply(l.v), addr.apply(l.o), addr.apply(l.gate),
                        addr.apply(l.up), addr.apply(l.down), opt.apply(l.qb), opt.apply(l.kb), opt.apply(l.vb),
                        opt.apply(l.qNorm), opt.apply(l.kNorm)),
                (float) config.rmsNormEps(), cos.data_ptr().address(), sin.data_ptr().address(),
                keys.data_ptr().address(), values.data_ptr().address(), valid.data_ptr().address(),
                cache.capacity(), start, l.window == null ? 0 : l.window, (float) config.attentionScale(), DecodeLinear.threads());
    }

    /** RoPE's cos and sin [B,1,T,D] for each of the model's RoPEs at int64 positions [B,T]. */
    private void ropeTables(Tensor positions, Tensor[] cos, Tensor[] sin) {
        Tensor floatPositions = positions.to(torch.ScalarType.Float).unsqueeze(-1);
        for (int r = 0; r < invFreq.length; r++) {
            Tensor freqs = floatPositions.mul(invFreq[r]);                                   // [B,T,D/2]
            Tensor emb = cat(new TensorVector(freqs, freqs), -1);
            cos[r] = emb.cos().unsqueeze(1);                                                  // [B,1,T,D]
            sin[r] = emb.sin().unsqueeze(1);
            if (dtype != FLOAT_TYPE()) {   // in the weights' dtype, as transformers casts them: q and k stay bf16
                cos[r] = cos[r].to(dtype);
                sin[r] = sin[r].to(dtype);
            }
        }
    }

    /** The input embeddings of int64 ids. */
    private Tensor embed(Tensor ids) {
        TrainingTape tape = TrainingTape.current(this);
        Tensor x = tape == null ? null : tape.lookup(embed, ids);
        if (x == null) x = embedding(embed, ids);
        // Gemma: times sqrt(hidden) rounded to float32 first (transformers' embed_scale buffer)
        if (gemma) x = x.mul(new Scalar((double) (float) Math.sqrt(config.hiddenSize())));
        return x;
    }

    /**
     * The final hidden states [R,T,H] of R right-padded sequences of which several continue the
     * same prompt (training's chosen and rejected responses), as {@link #hidden} computes them on
     * {@link SequenceBatch#inputIds()} up to float rounding, with autograd; but each distinct
     * prompt goes through the layers once: the response tokens attend to its keys and values, and
     * backward adds their gradients. Positions where a sequence is padding hold some other
     * position's state (finite; nothing reads them).
     *
     * <p>Why: DNO trains on pairs, two responses to one prompt; computing the prompt once per pair
     * saves a quarter of the layers' work when prompts are as long as responses, more when longer.
     */
    public Tensor hiddenSharingPrompts(SequenceBatch.SharedPrompts s) {
        long u = s.promptIds().size(0), tp = s.promptIds().size(1), r = s.responseIds().size(0), tr = s.responseIds().size(1);
        long h = config.hiddenSize();
        Tensor result;
        try (PointerScope scope = new PointerScope()) {
            TensorOptions longOpts = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device));
            Tensor promptPositions = arange(new Scalar(0), new Scalar(tp), longOpts).unsqueeze(0).expand(u, tp);
            Tensor lp = s.promptLengthOfRow();                                                          // [R]
            Tensor responsePositions = lp.unsqueeze(1).add(arange(new Scalar(0), new Scalar(tr), longOpts).unsqueeze(0));  // [R,Tr]
            Tensor[] cosP = new Tensor[invFreq.length], sinP = new Tensor[invFreq.length];
            Tensor[] cosR = new Tensor[invFreq.length], sinR = new Tensor[invFreq.length];
            ropeTables(promptPositions, cosP, sinP);
            ropeTables(responsePositions, cosR, sinR);
            Map<Integer, Tensor> blockedP = new java.util.HashMap<>(), blockedR = new java.util.HashMap<>();
            for (Layer l : layers) {
                int w = l.window == null ? 0 : l.window;
                blockedP.computeIfAbsent(w, x -> attentionBlocked(null, tp, tp, 0, x));
                blockedR.computeIfAbsent(w, x -> responseBlocked(lp, tp, tr, x));
            }
            // prompt tokens then response tokens as one [U*Tp + R*Tr, H] matrix: every product of a
            // layer is one call (a GEMM library packs the weight once per call); only attention is per part
            // (one embedding lookup: its backward writes one dense [V,H] gradient, not one per part)
            Tensor x = embed(cat(new TensorVector(s.promptIds().reshape(-1), s.responseIds().reshape(-1)), 0));
            TrainingTape tape = TrainingTape.current(this);
            for (int i = 0; i < layers.length; i++) {
                Tensor next;
                try (PointerScope layerScope = new PointerScope()) {
                    Layer l = layers[i];
                    int w = l.window == null ? 0 : l.window;
                    SharedAttention a = new SharedAttention(u, tp, r, tr, s.promptOfRow(), cosP[l.rope], sinP[l.rope],
                            cosR[l.rope], sinR[l.rope], blockedP.get(w), blockedR.get(w));
                    Tensor in = tape == null ? x : tape.boundary(x);
                    next = Scopes.keep(layer(in, l, hs -> sharedAttention(hs, l, a)));
                }
                x.close();
                x = Scopes.adopt(next);
            }
            Tensor flat = norm(x, finalNorm);
            result = Scopes.keep(flat.index_select(0, s.gather()).view(r, s.length(), h));
        }
        return Scopes.adopt(result);
    }

    /**
     * True where a response query may not attend: [R,1,Tr,Tp+Tr] over the keys of its prompt (the
     * first Tp slots, real up to the row's prompt length) then its own (causal), with a window w
     * (0 = none) by positions, as {@link #attentionBlocked} masks the unshared sequence.
     */
    private Tensor responseBlocked(Tensor promptLengthOfRow, long tp, long tr, int window) {
        TensorOptions longOpts = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device));
        Tensor j = arange(new Scalar(0), new Scalar(tr), longOpts).view(1, tr, 1);            // query slot in the response
        Tensor k = arange(new Scalar(0), new Scalar(tp + tr), longOpts).view(1, 1, tp + tr);   // key slot
        Tensor lp = promptLengthOfRow.view(-1, 1, 1);
        Tensor inPrompt = k.lt(new Scalar(tp));
        Tensor kr = k.sub(new Scalar(tp));                                                      // key slot in the response
        Tensor allowed = where(inPrompt, k.lt(lp), kr.le(j));
        if (window > 0) {
            Tensor keyPosition = where(inPrompt, k, lp.add(kr)), queryPosition = lp.add(j);
            allowed = allowed.logical_and(queryPosition.sub(keyPosition).lt(new Scalar(window)));
        }
        return allowed.logical_not().unsqueeze(1);
    }

    /** The shapes, RoPE tables and masks of one layer's attention in {@link #hiddenSharingPrompts}. */
    private record SharedAttention(long prompts, long promptLength, long rows, long responseLength, Tensor promptOfRow,
                                   Tensor cosP, Tensor sinP, Tensor cosR, Tensor sinR, Tensor blockedP, Tensor blockedR) {}

    /**
     * Attention of {@link #hiddenSharingPrompts} on x [U*Tp + R*Tr, H]: the projections over all
     * tokens at once; the prompts attend causally among themselves, each response row to its
     * prompt's keys and values ({@code promptOfRow}) and then causally to its own.
     */
    private Tensor sharedAttention(Tensor x, Layer l, SharedAttention a) {
        long np = a.prompts() * a.promptLength(), nr = a.rows() * a.responseLength();
        Tensor q = lin(x, l.q, l.qb), k = lin(x, l.k, l.kb), v = lin(x, l.v, l.vb);
        Tensor[] p = heads(q.narrow(0, 0, np), k.narrow(0, 0, np), v.narrow(0, 0, np), l, a.prompts(), a.promptLength(), a.cosP(), a.sinP());
        Tensor[] r = heads(q.narrow(0, np, nr), k.narrow(0, np, nr), v.narrow(0, np, nr), l, a.rows(), a.responseLength(), a.cosR(), a.sinR());
        Tensor outP = attend(p[0], p[1], p[2], a.blockedP(), a.prompts(), a.promptLength());
        Tensor keys = cat(new TensorVector(p[1].index_select(0, a.promptOfRow()), r[1]), 2);
        Tensor values = cat(new TensorVector(p[2].index_select(0, a.promptOfRow()), r[2]), 2);
        Tensor outR = attend(r[0], keys, values, a.blockedR(), a.rows(), a.responseLength());
        return lin(cat(new TensorVector(outP.reshape(np, -1), outR.reshape(nr, -1)), 0), l.o, l.ob);
    }

    /** One decoder layer on x [.., H]; {@code attention} maps the normalised x to the attention branch's output. */
    private Tensor layer(Tensor x, Layer l, java.util.function.UnaryOperator<Tensor> attention) {
        Tensor h = norm(x, l.inputNorm);
        Tensor a = attention.apply(h);
        if (gemma) {
            // Gemma normalises each branch's output too: post_attention_layernorm is applied to the
            // attention output, and the MLP sits between pre_ and post_feedforward_layernorm
            x = x.add(norm(a, l.postNorm));
            return x.add(norm(mlp(norm(x, l.preFfnNorm), l), l.postFfnNorm));
        }
        x = x.add(a);
        return x.add(mlp(norm(x, l.postNorm), l));
    }

    private Tensor mlp(Tensor h, Layer l) {
        Tensor g = lin(h, l.gate, l.gateB);
        g = switch (config.activation()) {
            case SILU -> silu(g);
            case GELU -> gelu(g);
            case GELU_TANH -> gelu(g, "tanh");
        };
        return lin(g.mul(lin(h, l.up, l.upB)), l.down, l.downB);
    }

    /** Logits [.., V] = hidden · lm_headᵀ, soft-capped (cap · tanh(logits / cap)) where the config says so. */
    public Tensor logits(Tensor hidden) {
        TrainingTape tape = TrainingTape.current(this);
        Tensor y = tape == null ? null : tape.linear(hidden, lmHead);
        if (y == null) y = DecodeLinear.tryApply(hidden, lmHead, null, decodeBf16.get(lmHead));
        if (y == null) y = ManyRowLinear.tryApply(hidden, null, amxPacked.get(lmHead));
        if (y == null) y = linear(hidden, lmHead);
        Double cap = config.finalLogitSoftcap();
        if (cap == null) return y;
        return y.div(new Scalar(cap)).tanh().mul(new Scalar(cap));
    }

    /** Full forward without cache: logits [B,T,V]. */
    public Tensor forward(Tensor inputIds) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = Scopes.keep(logits(hidden(inputIds, null, null, null)));
        }
        return Scopes.adopt(out);
    }

    /** Logits for a batch of id sequences, without grad, as float arrays [T][V] per sequence (test and debug helper). */
    public float[][] logitsOf(long[] ids) {
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            Tensor in = Tensors.fromLongs(ids, 1, ids.length).to(device, torch.ScalarType.Long);
            float[] flat = Tensors.toFloats(forward(in));
            int v = config.vocabSize();
            float[][] out = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            return out;
        }
    }

    /**
     * True where attention is blocked: [B,1,T,Tk] (or [1,1,T,Tk] without key mask). Query slot q
     * sees key slots k ≤ q, and with a window w (0 = none) only those with k > q - w. Slots, not
     * RoPE positions, as transformers masks by cache position: the two differ by a row's left
     * padding, which is masked anyway, so distances between real tokens are the same.
     */
    private Tensor attentionBlocked(Tensor keyValid, long tk, long t, int start, int window) {
        TensorOptions longOpts = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device));
        Tensor q = arange(new Scalar(start), new Scalar(start + t), longOpts).unsqueeze(1);  // [T,1]
        Tensor k = arange(new Scalar(0), new Scalar(tk), longOpts).unsqueeze(0);             // [1,Tk]
        Tensor allowed = k.le(q);
        if (window > 0) allowed = allowed.logical_and(k.gt(q.sub(new Scalar(window))));
        allowed = allowed.unsqueeze(0).unsqueeze(0);                                          // [1,1,T,Tk]
        if (keyValid != null) allowed = allowed.logical_and(keyValid.unsqueeze(1).unsqueeze(1));
        return allowed.logical_not();
    }

    private Tensor attention(Tensor x, Layer l, int layer, Tensor cos, Tensor sin, Tensor blocked, KvCache cache, int start) {
        long b = x.size(0), t = x.size(1);
        int nh = config.numHeads(), d = config.headDim();
        Tensor[] qkv = heads(lin(x, l.q, l.qb), lin(x, l.k, l.kb), lin(x, l.v, l.vb), l, b, t, cos, sin);
        Tensor q = qkv[0], k = qkv[1], v = qkv[2];
        if (cache != null) {
            cache.keys[layer].narrow(2, start, t).copy_(k);
            cache.values[layer].narrow(2, start, t).copy_(v);
            k = cache.keys[layer].narrow(2, 0, start + t);
            v = cache.values[layer].narrow(2, 0, start + t);
        }
        if (cache == null && l.window == null && blocked.size(0) == 1 && !amxPacked.isEmpty() && !GradMode.is_enabled()) {
            // the AMX view's forward (scoring: right-padded, causal only): libtorch's fused
            // attention kernel, which never materialises the [T, T] scores per head
            Tensor out = scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, true,
                    new DoubleOptional(config.attentionScale()), config.kvGroups() > 1);
            return lin(out.transpose(1, 2).reshape(b, t, (long) nh * d), l.o, l.ob);
        }
        return lin(attend(q, k, v, blocked, b, t), l.o, l.ob);
    }

    /**
     * Projected q, k, v ([.., heads * D], b*t rows) as heads [b, heads, t, D], q/k-normed where the
     * model has those norms, and rotated (RoPE).
     */
    private Tensor[] heads(Tensor q, Tensor k, Tensor v, Layer l, long b, long t, Tensor cos, Tensor sin) {
        int nh = config.numHeads(), kvh = config.numKvHeads(), d = config.headDim();
        q = q.reshape(b, t, nh, d).transpose(1, 2);
        k = k.reshape(b, t, kvh, d).transpose(1, 2);
        v = v.reshape(b, t, kvh, d).transpose(1, 2);
        if (l.qNorm != null) {   // Qwen3 / Gemma 3: RMSNorm over each head's vector, before RoPE
            q = norm(q, l.qNorm);
            k = norm(k, l.kNorm);
        }
        return new Tensor[]{rope(q, cos, sin), rope(k, cos, sin), v};
    }

    /**
     * Attention of queries q [b, nh, t, D] over keys and values [b, kvh, tk, D], where
     * {@code blocked} [b or 1, 1, t, tk] is false: [b, t, nh * D], before the output projection.
     */
    private Tensor attend(Tensor q, Tensor k, Tensor v, Tensor blocked, long b, long t) {
        int nh = config.numHeads(), kvh = config.numKvHeads(), d = config.headDim();
        int groups = config.kvGroups();
        // Grouped-query attention without copying K/V: the query heads that share a KV head are
        // stacked along the time axis, [B, kvh, groups*T, D], so the cache is read in place.
        long tk = k.size(2);
        Tensor qg = q.reshape(b, kvh, (long) groups * t, d);
        Tensor scores = matmul(qg, k.transpose(2, 3)).mul(new Scalar(config.attentionScale()));
        Tensor mask = groups == 1 ? blocked
                : blocked.unsqueeze(2).expand(blocked.size(0), 1, groups, t, tk).reshape(blocked.size(0), 1, (long) groups * t, tk);
        // mask and softmax in float32: float32's lowest value overflows bf16 scores under autocast
        scores = scores.to(torch.ScalarType.Float).masked_fill(mask, new Scalar(MASKED));
        Tensor probs = softmax(scores, -1, new ScalarTypeOptional(torch.ScalarType.Float)).to(q.scalar_type());
        return matmul(probs, v).reshape(b, nh, t, d).transpose(1, 2).reshape(b, t, (long) nh * d);
    }

    private static Tensor rope(Tensor x, Tensor cos, Tensor sin) {
        long half = x.size(3) / 2;
        Tensor x1 = x.narrow(3, 0, half), x2 = x.narrow(3, half, half);
        Tensor rotated = cat(new TensorVector(x2.neg(), x1), -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    /**
     * RMSNorm in float32. Llama-style: w · normed cast back to x's dtype; Gemma: normed · (1 + w),
     * both in float32, then cast (the difference matters under bf16 autocast).
     */
    private Tensor norm(Tensor x, Tensor weight) {
        Tensor h = x.to(torch.ScalarType.Float);
        Tensor var = h.mul(h).mean(new long[]{-1}, true, new ScalarTypeOptional());
        h = h.mul(rsqrt(var.add(new Scalar(config.rmsNormEps()))));
        if (gemma) return h.mul(weight.to(torch.ScalarType.Float).add(new Scalar(1.0))).to(x.scalar_type());
        return weight.mul(h.to(x.scalar_type()));
    }

    private Tensor lin(Tensor x, Tensor w, Tensor bias) {
        TrainingTape tape = TrainingTape.current(this);
        if (tape != null) {
            Tensor y = tape.linear(x, w);
            if (y != null) return bias == null ? y : y.add(bias);
        }
        Tensor fast = DecodeLinear.tryApply(x, w, bias, decodeBf16.get(w));
        if (fast != null) return fast;
        fast = ManyRowLinear.tryApply(x, bias, amxPacked.get(w));
        if (fast != null) return fast;
        Tensor y = linear(x, w);
        return bias == null ? y : y.add(bias);
    }

    /** Sets gradients of every parameter to zero (drops them). */
    public void zeroGrad() {
        for (Tensor p : params.values()) {
            Tensor g = p.grad();
            if (g.defined()) g.zero_();
        }
    }

    public List<String> parameterNames() { return new ArrayList<>(params.keySet()); }

    public long parameterCount() {
        long n = 0;
        for (Tensor p : params.values()) n += p.numel();
        return n;
    }

    @Override
    public void close() {
        for (Tensor c : decodeBf16.values()) c.close();
        decodeBf16.clear();
        for (ManyRowLinear.Packed p : amxPacked.values()) p.close();
        amxPacked.clear();
        if (!ownsParams) return;
        for (Tensor p : params.values()) p.close();
        for (Tensor f : invFreq) f.close();
        // the mappings go with the GC once the parameters are freed (Java unmaps a buffer only then)
        mappings = List.of();
    }
}
