package org.dnonative.dno.config;

/**
 * Sampling of the policy's K responses per prompt.
 *
 * @param samples K, samples per prompt
 * @param batch   sequences sampled at once
 * @param maskUntokenizedIds never sample ids the tokenizer has no token for (the padded tail of a
 *                   vocabulary such as Qwen's 151936 rows for ~151665 tokens); off by default, as in
 *                   transformers, where such ids decode to ""
 * @param dtype   the weights the decode step reads: "float32" (default) or "bfloat16" (on a float32
 *                CPU model: bf16 copies of the large matrices, float32 activations and sums; the
 *                log-probs that enter the loss are the float32 scorer's either way; docs/POLICY.md)
 * Sizes have upper bounds no run needs, so that a typo (2000000000) is an error here rather than an
 * out-of-memory error later; whether max_new_tokens fits the model is checked before the run
 * ({@code Preflight}: against max_position_embeddings).
 */
public record SamplingConfig(int samples, double temperature, double topP, int topK, int maxNewTokens, int batch,
                             boolean maskUntokenizedIds, String dtype) {
    /** Samples per prompt (the model's SamplingParams.MAX_SAMPLES). */
    public static final int MAX_SAMPLES = 65536;
    /** New tokens per sample: above any model's positions (2^24). */
    public static final int MAX_NEW_TOKENS = 1 << 24;
    /** Sequences sampled at once. */
    public static final int MAX_BATCH = 65536;

    public SamplingConfig {
        new Checks().atLeast(samples, 2, "samples").require(samples <= MAX_SAMPLES, "samples", atMost(MAX_SAMPLES, samples))
                .nonNegative(temperature, "temperature").in(topP, 0, 1, true, false, "top_p").atLeast(topK, 0, "top_k")
                .atLeast(maxNewTokens, 1, "max_new_tokens").require(maxNewTokens <= MAX_NEW_TOKENS, "max_new_tokens", atMost(MAX_NEW_TOKENS, maxNewTokens))
                .atLeast(batch, 1, "batch").require(batch <= MAX_BATCH, "batch", atMost(MAX_BATCH, batch))
                .require("float32".equals(dtype) || "bfloat16".equals(dtype), "dtype", "must be float32 or bfloat16, was " + dtype)
                .throwIfAny();
    }

    private static String atMost(int max, int value) {
        return "must be at most " + max + ", was " + value;
    }

    public static SamplingConfig defaults() {
        return new SamplingConfig(5, 0.7, 0.95, 0, 256, 64, false, "float32");
    }
}
