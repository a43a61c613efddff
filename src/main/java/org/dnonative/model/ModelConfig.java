package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a HuggingFace {@code config.json} that the supported architectures need, resolved
 * to per-layer facts (attention window and RoPE of each layer) the way transformers resolves them.
 * The original JSON is kept ({@link #raw()}) so that saving a checkpoint writes it back unchanged
 * apart from the dtype. Both RoPE spellings are accepted: the top-level {@code rope_theta} /
 * {@code rope_scaling} (and Gemma 3's {@code rope_local_base_freq}) of most published checkpoints
 * and the transformers-5 {@code rope_parameters}, which Gemma 3 nests per layer type.
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        RopeScaling rope,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean mlpBias,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        Integer padTokenId,
        String dtype,
        ObjectNode raw,
        Activation activation,
        List<LayerAttention> layerAttention,
        double attentionScale,
        Double finalLogitSoftcap) {

    public enum Architecture {
        LLAMA("LlamaForCausalLM", "llama"), QWEN2("Qwen2ForCausalLM", "qwen2"), MISTRAL("MistralForCausalLM", "mistral"),
        QWEN3("Qwen3ForCausalLM", "qwen3"), GEMMA3("Gemma3ForCausalLM", "gemma3_text");
        public final String className;
        public final String modelType;
        Architecture(String className, String modelType) { this.className = className; this.modelType = modelType; }

        /** Per-head RMSNorm of queries and keys before RoPE (self_attn.q_norm / k_norm). */
        public boolean qkNorm() { return this == QWEN3 || this == GEMMA3; }

        /**
         * Gemma's layout: embeddings scaled by sqrt(hidden), RMSNorm as x·(1+w) computed in float32,
         * and a norm after attention and around the MLP (pre/post feed-forward layernorms).
         */
        public boolean gemma() { return this == GEMMA3; }
    }

    /** The MLP's gate activation: transformers' silu, gelu (erf) or gelu_pytorch_tanh. */
    public enum Activation { SILU, GELU, GELU_TANH }

    /** One layer's attention: its window (null = full causal attention) and its RoPE. */
    public record LayerAttention(Integer window, RopeScaling rope) {}

    /**
     * RoPE parameters: theta and the scaling type ("default", "linear" or "llama3") with its factors.
     */
    public record RopeScaling(double theta, String type, double factor, double lowFreqFactor,
                              double highFreqFactor, int originalMaxPositionEmbeddings) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(ModelConfig.class);

    public ModelConfig {
        if (hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0 || vocabSize <= 0 || headDim <= 0)
            throw new ModelException("config: sizes must be positive");
        if (numHeads % numKvHeads != 0)
            throw new ModelException("config: num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads " + numKvHeads);
        if (headDim % 2 != 0) throw new ModelException("config: head_dim " + headDim + " is odd (RoPE rotates pairs)");
        layerAttention = List.copyOf(layerAttention);
        if (layerAttention.size() != numLayers)
            throw new ModelException("config: " + layerAttention.size() + " layer types for " + numLayers + " layers");
    }

    public int kvGroups() { return numHeads / numKvHeads; }

    /**
     * The largest attention window of any sliding-window layer, or null when every layer attends
     * to the whole causal prefix.
     */
    public Integer slidingWindow() {
        Integer w = null;
        for (LayerAttention l : layerAttention) if (l.window() != null && (w == null || l.window() > w)) w = l.window();
        return w;
    }

    public static ModelConfig load(Path dir) {
        Path file = dir.resolve("config.json");
        JsonNode node;
        try {
            node = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ModelException(file + ": missing (a model directory needs config.json)");
        } catch (IOException e) {
            throw new ModelException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) throw new ModelException(file + ": not a JSON object");
        return fromJson((ObjectNode) node, file.toString());
    }

    public static ModelConfig fromJson(ObjectNode n, String source) {
        Architecture arch = architectureOf(n, source);
        boolean gemma = arch.gemma();
        int hidden = req(n, "hidden_size", source);
        int heads = req(n, "num_attention_heads", source);
        int layers = req(n, "num_hidden_layers", source);
        if (layers <= 0) throw new ModelException(source + ": num_hidden_layers must be positive, got " + layers);
        int kvHeads = n.has("num_key_value_heads") && !n.get("num_key_value_heads").isNull() ? n.get("num_key_value_heads").asInt() : heads;
        // without head_dim, Qwen3Config and Gemma3TextConfig fall back to their class defaults, not hidden/heads
        int defaultHeadDim = arch == Architecture.QWEN3 ? 128 : gemma ? 256 : hidden / heads;
        int headDim = n.has("head_dim") && !n.get("head_dim").isNull() ? n.get("head_dim").asInt() : defaultHeadDim;
        boolean attnBias = n.has("attention_bias") ? n.get("attention_bias").asBoolean() : arch == Architecture.QWEN2;
        boolean tie = n.has("tie_word_embeddings") ? n.get("tie_word_embeddings").asBoolean()
                : arch != Architecture.QWEN2 && arch != Architecture.QWEN3;
        Activation act = activation(n, gemma, source);
        if (n.path("use_bidirectional_attention").asBoolean(false))
            throw new ModelException(source + ": use_bidirectional_attention is not supported (causal language models only)");
        if (gemma && n.hasNonNull("attn_logit_softcapping"))
            // transformers' Gemma3Attention stores the field but never applies it; neither do we
            LOG.warn("{}: attn_logit_softcapping is ignored for Gemma 3, as transformers ignores it", source);
        double queryScalar = gemma ? n.path("query_pre_attn_scalar").asDouble(256) : headDim;
        if (!(queryScalar > 0)) throw new ModelException(source + ": query_pre_attn_scalar must be positive, got " + queryScalar);
        double scale = 1.0 / Math.sqrt(queryScalar);
        Double finalCap = gemma && n.hasNonNull("final_logit_softcapping") ? n.get("final_logit_softcapping").asDouble() : null;
        if (finalCap != null && !(finalCap > 0)) throw new ModelException(source + ": final_logit_softcapping must be positive, got " + finalCap);
        String dtype = n.has("torch_dtype") ? n.get("torch_dtype").asText() : n.path("dtype").asText("float32");
        RopeScaling fullRope = gemma ? gemmaRope(n, "full_attention", source) : rope(n, source);
        List<LayerAttention> layerAttention = SlidingLayers.resolve(n, arch, layers, fullRope,
                gemma ? gemmaRope(n, "sliding_attention", source) : fullRope, source);
        return new ModelConfig(arch, req(n, "vocab_size", source), hidden, req(n, "intermediate_size", source),
                layers, heads, kvHeads, headDim,
                n.path("rms_norm_eps").asDouble(1e-6), fullRope,
                n.path("max_position_embeddings").asInt(2048), tie, attnBias,
                n.path("mlp_bias").asBoolean(false),
                intOrNull(n.get("bos_token_id")), intList(n.get("eos_token_id")), intOrNull(n.get("pad_token_id")),
                dtype, n.deepCopy(), act, layerAttention, scale, finalCap);
    }

    private static Activation activation(ObjectNode n, boolean gemma, String source) {
        // Gemma configs name it hidden_activation (older ones also carry a stale hidden_act: "gelu")
        String key = gemma && n.hasNonNull("hidden_activation") ? "hidden_activation" : "hidden_act";
        String act = n.path(key).asText(gemma ? "gelu_pytorch_tanh" : "silu");
        return switch (act) {
            case "silu", "swish" -> Activation.SILU;
            case "gelu" -> Activation.GELU;
            case "gelu_pytorch_tanh" -> Activation.GELU_TANH;
            default -> throw new ModelException(source + ": " + key + " '" + act + "' is not supported (silu, gelu, gelu_pytorch_tanh)");
        };
    }

    private static Architecture architectureOf(ObjectNode n, String source) {
        JsonNode archs = n.get("architectures");
        String type = n.path("model_type").asText("");
        if (archs != null && archs.isArray()) {
            for (JsonNode a : archs)
                for (Architecture x : Architecture.values()) if (x.className.equals(a.asText())) return x;
            for (JsonNode a : archs)
                if (a.asText().equals("Gemma3ForConditionalGeneration"))
                    throw new ModelException(source + ": Gemma3ForConditionalGeneration (text and vision) is not supported;"
                            + " only the text-only Gemma3ForCausalLM (model_type gemma3_text) is");
        }
        for (Architecture x : Architecture.values()) if (x.modelType.equals(type)) return x;
        throw new ModelException(source + ": unknown architecture " + (archs == null ? "" : archs + " ") + "model_type '" + type
                + "' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM)");
    }

    /**
     * One of Gemma 3's two RoPEs as Gemma3TextConfig resolves it: transformers-5 nests
     * rope_parameters per layer type; hub configs have rope_theta (global, default 1e6) with an
     * optional rope_scaling for full attention and rope_local_base_freq (default 1e4) for sliding.
     */
    private static RopeScaling gemmaRope(ObjectNode n, String layerType, String source) {
        JsonNode params = n.get("rope_parameters");
        if (params != null && params.isObject() && params.has(layerType)) {
            JsonNode p = params.get(layerType);
            if (!p.isObject()) throw new ModelException(source + ": rope_parameters." + layerType + " is not an object");
            double theta = p.path("rope_theta").asDouble(layerType.equals("full_attention") ? 1_000_000.0 : 10_000.0);
            return ropeOf(p, theta, source);
        }
        if (layerType.equals("sliding_attention"))
            return ropeOf(null, n.path("rope_local_base_freq").asDouble(10_000.0), source);
        JsonNode scaling = n.get("rope_scaling");
        return ropeOf(scaling != null && scaling.isObject() ? scaling : null, n.path("rope_theta").asDouble(1_000_000.0), source);
    }

    private static RopeScaling rope(ObjectNode n, String source) {
        JsonNode params = n.get("rope_parameters");
        JsonNode scaling = n.get("rope_scaling");
        double theta = n.path("rope_theta").asDouble(Double.NaN);
        JsonNode s = null;
        if (params != null && params.isObject()) {
            s = params;
            if (params.has("rope_theta")) theta = params.get("rope_theta").asDouble();
        } else if (scaling != null && scaling.isObject()) {
            s = scaling;
        }
        if (Double.isNaN(theta)) theta = 10000.0;
        return ropeOf(s, theta, source);
    }

    private static RopeScaling ropeOf(JsonNode s, double theta, String source) {
        String type = s == null ? "default" : s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("default");
        if (!List.of("default", "linear", "llama3").contains(type))
            throw new ModelException(source + ": rope type '" + type + "' is not supported (default, linear, llama3)");
        double factor = s == null ? 1.0 : s.path("factor").asDouble(1.0);
        return new RopeScaling(theta, type, factor,
                s == null ? 1.0 : s.path("low_freq_factor").asDouble(1.0),
                s == null ? 4.0 : s.path("high_freq_factor").asDouble(4.0),
                s == null ? 8192 : s.path("original_max_position_embeddings").asInt(8192));
    }

    private static int req(ObjectNode n, String key, String source) {
        JsonNode v = n.get(key);
        if (v == null || !v.canConvertToInt()) throw new ModelException(source + ": missing or non-integer field '" + key + "'");
        return v.asInt();
    }

    private static Integer intOrNull(JsonNode v) {
        return v == null || v.isNull() ? null : v.isArray() ? (v.size() == 0 ? null : v.get(0).asInt()) : v.asInt();
    }

    private static List<Integer> intList(JsonNode v) {
        List<Integer> out = new ArrayList<>();
        if (v == null || v.isNull()) return out;
        if (v.isArray()) v.forEach(x -> out.add(x.asInt()));
        else out.add(v.asInt());
        return List.copyOf(out);
    }

    /**
     * A config.json for a randomly initialised model of the given sizes (used by the embedded default
     * run and the benchmarks).
     */
    public static ModelConfig of(Architecture arch, int vocab, int hidden, int intermediate, int layers,
                                 int heads, int kvHeads, int maxPositions, boolean tied, Integer bos, int eos, Integer pad) {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(arch.className);
        n.put("model_type", arch.modelType);
        n.put("vocab_size", vocab);
        n.put("hidden_size", hidden);
        n.put("intermediate_size", intermediate);
        n.put("num_hidden_layers", layers);
        n.put("num_attention_heads", heads);
        n.put("num_key_value_heads", kvHeads);
        n.put("head_dim", hidden / heads);
        if (arch.gemma()) n.put("hidden_activation", "gelu_pytorch_tanh");
        else n.put("hidden_act", "silu");
        n.put("max_position_embeddings", maxPositions);
        n.put("rms_norm_eps", 1e-6);
        n.put("rope_theta", 10000.0);
        n.put("tie_word_embeddings", tied);
        n.put("attention_bias", arch == Architecture.QWEN2);
        if (arch.gemma()) n.put("query_pre_attn_scalar", hidden / heads);
        n.put("mlp_bias", false);
        if (bos == null) n.putNull("bos_token_id"); else n.put("bos_token_id", bos);
        n.put("eos_token_id", eos);
        if (pad == null) n.putNull("pad_token_id"); else n.put("pad_token_id", pad);
        n.put("torch_dtype", "float32");
        n.put("initializer_range", 0.02);
        return fromJson(n, "<generated config>");
    }
}
