package org.dnonative.dno.config;

/**
 * Evaluation of each iterate on the held-out prompts.
 *
 * @param samples  samples per held-out prompt and policy
 * @param allPairs compare every sample of one policy with every sample of the other (false: sample i with sample i)
 */
public record EvaluationConfig(int samples, double temperature, boolean allPairs) {
    public EvaluationConfig {
        new Checks().atLeast(samples, 1, "samples")
                .require(samples <= SamplingConfig.MAX_SAMPLES, "samples", "must be at most " + SamplingConfig.MAX_SAMPLES + ", was " + samples)
                .nonNegative(temperature, "temperature").throwIfAny();
    }

    public static EvaluationConfig defaults() {
        return new EvaluationConfig(5, 0.7, false);
    }
}
