package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Which layers attend through a sliding window, resolved from config.json as each transformers
 * config class resolves it (the per-layer facts that {@link ModelConfig#layerAttention()} holds):
 *
 * <ul>
 *   <li>Mistral: every layer, when {@code sliding_window} is set (MistralConfig has no switch);</li>
 *   <li>Qwen2 / Qwen3: only with {@code use_sliding_window}; then the layers that {@code layer_types}
 *       names {@code sliding_attention}, or without it the layers from {@code max_window_layers} (28) on;</li>
 *   <li>Gemma 3: {@code layer_types}, or without it every layer but each {@code sliding_window_pattern}-th
 *       (6) one; window {@code sliding_window} (4096); sliding and full layers have their own RoPE;</li>
 *   <li>Llama: none.</li>
 * </ul>
 *
 * A window of w lets a query see itself and the w-1 keys before it (transformers'
 * {@code kv_idx > q_idx - sliding_window}).
 */
final class SlidingLayers {
    private SlidingLayers() {}

    static List<ModelConfig.LayerAttention> resolve(ObjectNode n, ModelConfig.Architecture arch, int layers,
                                                    ModelConfig.RopeScaling fullRope, ModelConfig.RopeScaling slidingRope,
                                                    String source) {
        JsonNode w = n.get("sliding_window");
        Integer window = w != null && w.isNumber() ? w.asInt() : null;
        if (window != null && window < 1) throw new ModelException(source + ": sliding_window must be at least 1, got " + window);
        boolean[] sliding = new boolean[layers];
        switch (arch) {
            case LLAMA -> window = null;
            case MISTRAL -> java.util.Arrays.fill(sliding, window != null);
            case QWEN2, QWEN3 -> {
                if (!n.path("use_sliding_window").asBoolean(false)) window = null;
                boolean[] named = layerTypes(n, layers, source);
                int from = n.path("max_window_layers").asInt(28);
                for (int i = 0; i < layers; i++) sliding[i] = window != null && (named != null ? named[i] : i >= from);
            }
            case GEMMA3 -> {
                if (window == null) window = n.has("sliding_window") ? null : 4096;
                boolean[] named = layerTypes(n, layers, source);
                int pattern = n.path("sliding_window_pattern").asInt(n.path("_sliding_window_pattern").asInt(6));
                if (named == null && pattern < 1) throw new ModelException(source + ": sliding_window_pattern must be at least 1");
                for (int i = 0; i < layers; i++) sliding[i] = named != null ? named[i] : (i + 1) % pattern != 0;
            }
        }
        List<ModelConfig.LayerAttention> out = new ArrayList<>(layers);
        for (int i = 0; i < layers; i++) {
            // a Gemma layer typed sliding keeps its local RoPE even when the window is unset, as in transformers
            ModelConfig.RopeScaling rope = sliding[i] ? slidingRope : fullRope;
            out.add(new ModelConfig.LayerAttention(sliding[i] && window != null ? window : null, rope));
        }
        return out;
    }

    /** layer_types as sliding flags, or null when the config has none. */
    private static boolean[] layerTypes(ObjectNode n, int layers, String source) {
        JsonNode types = n.get("layer_types");
        if (types == null || types.isNull()) return null;
        if (!types.isArray() || types.size() != layers)
            throw new ModelException(source + ": layer_types must list one type per layer (" + layers + ")");
        boolean[] out = new boolean[layers];
        for (int i = 0; i < layers; i++) {
            String t = types.get(i).asText();
            if (!t.equals("sliding_attention") && !t.equals("full_attention"))
                throw new ModelException(source + ": layer_types[" + i + "] '" + t + "' is not supported (sliding_attention, full_attention)");
            out[i] = t.equals("sliding_attention");
        }
        return out;
    }
}
