package org.dnonative.model;

import java.util.List;

/**
 * How to sample: K samples per prompt, temperature (0 = greedy), nucleus top-p (1 = off), top-k
 * (0 = off), a cap on new tokens, stop strings, a seed, and how many sequences run at once.
 * Sizes are bounded here only by what no model needs ({@link #MAX_SAMPLES}); whether a length fits
 * a model is {@link Policy#checkLength}'s question, asked before anything is allocated.
 */
public record SamplingParams(int samples, double temperature, double topP, int topK, int maxNewTokens,
                             List<String> stopStrings, long seed, int maxBatch) {
    /** Samples per prompt: rows are counted as prompts x samples in an int, and no method needs more. */
    public static final int MAX_SAMPLES = 65536;

    public SamplingParams {
        if (samples < 1 || samples > MAX_SAMPLES)
            throw new IllegalArgumentException("samples must be in [1, " + MAX_SAMPLES + "], got " + samples);
        if (temperature < 0 || Double.isNaN(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        if (maxBatch < 1) throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    }

    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(1, 0, 1, 0, maxNewTokens, List.of(), 0, 32);
    }

    /** DNO's defaults: K=5, temperature 0.7, top-p 0.95. */
    public static SamplingParams dnoDefaults(int maxNewTokens, long seed) {
        return new SamplingParams(5, 0.7, 0.95, 0, maxNewTokens, List.of(), seed, 32);
    }
}
