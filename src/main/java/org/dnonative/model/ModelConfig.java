package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a HuggingFace {@code config.json} that the Llama and Qwen2 architectures need.
 * The original JSON is kept ({@link #raw()}) so that saving a checkpoint writes it back unchanged
 * apart from the dtype. Both RoPE spellings are accepted: the top-level {@code rope_theta} /
 * {@code rope_scaling} of most published checkpoints and the transformers-5 {@code rope_parameters}.
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
        ObjectNode raw) {

    public enum Architecture {
        LLAMA("LlamaForCausalLM", "llama"), QWEN2("Qwen2ForCausalLM", "qwen2"), MISTRAL("MistralForCausalLM", "mistral");
        public final String className;
        public final String modelType;
        Architecture(String className, String modelType) { this.className = className; this.modelType = modelType; }
    }

    /**
     * RoPE parameters: theta and the scaling type ("default", "linear" or "llama3") with its factors.
     */
    public record RopeScaling(double theta, String type, double factor, double lowFreqFactor,
                              double highFreqFactor, int originalMaxPositionEmbeddings) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelConfig {
        if (hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0 || vocabSize <= 0 || headDim <= 0)
            throw new ModelException("config: sizes must be positive");
        if (numHeads % numKvHeads != 0)
            throw new ModelException("config: num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads " + numKvHeads);
    }

    public int kvGroups() { return numHeads / numKvHeads; }

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
        int hidden = req(n, "hidden_size", source);
        int heads = req(n, "num_attention_heads", source);
        int kvHeads = n.has("num_key_value_heads") && !n.get("num_key_value_heads").isNull() ? n.get("num_key_value_heads").asInt() : heads;
        int headDim = n.has("head_dim") && !n.get("head_dim").isNull() ? n.get("head_dim").asInt() : hidden / heads;
        if (n.path("sliding_window").isNumber() && n.path("use_sliding_window").asBoolean(arch == Architecture.MISTRAL)) {
            throw new ModelException(source + ": sliding-window attention is not supported (sliding_window=" + n.get("sliding_window") + ")");
        }
        boolean attnBias = n.has("attention_bias") ? n.get("attention_bias").asBoolean() : arch == Architecture.QWEN2;
        boolean tie = n.has("tie_word_embeddings") ? n.get("tie_word_embeddings").asBoolean() : arch != Architecture.QWEN2;
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new ModelException(source + ": hidden_act '" + act + "' is not supported (only silu)");
        String dtype = n.has("torch_dtype") ? n.get("torch_dtype").asText() : n.path("dtype").asText("float32");
        return new ModelConfig(arch, req(n, "vocab_size", source), hidden, req(n, "intermediate_size", source),
                req(n, "num_hidden_layers", source), heads, kvHeads, headDim,
                n.path("rms_norm_eps").asDouble(1e-6), rope(n, source),
                n.path("max_position_embeddings").asInt(2048), tie, attnBias,
                n.path("mlp_bias").asBoolean(false),
                intOrNull(n.get("bos_token_id")), intList(n.get("eos_token_id")), intOrNull(n.get("pad_token_id")),
                dtype, n.deepCopy());
    }

    private static Architecture architectureOf(ObjectNode n, String source) {
        JsonNode archs = n.get("architectures");
        String type = n.path("model_type").asText("");
        if (archs != null && archs.isArray()) {
            for (JsonNode a : archs)
                for (Architecture x : Architecture.values()) if (x.className.equals(a.asText())) return x;
        }
        for (Architecture x : Architecture.values()) if (x.modelType.equals(type)) return x;
        throw new ModelException(source + ": unknown architecture " + (archs == null ? "" : archs + " ") + "model_type '" + type
                + "' (supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM)");
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
        n.put("hidden_act", "silu");
        n.put("max_position_embeddings", maxPositions);
        n.put("rms_norm_eps", 1e-6);
        n.put("rope_theta", 10000.0);
        n.put("tie_word_embeddings", tied);
        n.put("attention_bias", arch == Architecture.QWEN2);
        n.put("mlp_bias", false);
        if (bos == null) n.putNull("bos_token_id"); else n.put("bos_token_id", bos);
        n.put("eos_token_id", eos);
        if (pad == null) n.putNull("pad_token_id"); else n.put("pad_token_id", pad);
        n.put("torch_dtype", "float32");
        n.put("initializer_range", 0.02);
        return fromJson(n, "<generated config>");
    }
}
