package org.dnonative.dno.config;

/**
 * Sampling of the policy's K responses per prompt.
 *
 * @param samples K, samples per prompt
 * @param batch   sequences sampled at once
 */
public record SamplingConfig(int samples, double temperature, double topP, int topK, int maxNewTokens, int batch) {
    public SamplingConfig {
        new Checks().atLeast(samples, 2, "samples").nonNegative(temperature, "temperature")
                .in(topP, 0, 1, true, false, "top_p").atLeast(topK, 0, "top_k")
                .atLeast(maxNewTokens, 1, "max_new_tokens").atLeast(batch, 1, "batch").throwIfAny();
    }

    public static SamplingConfig defaults() {
        return new SamplingConfig(5, 0.7, 0.95, 0, 256, 64);
    }
}
