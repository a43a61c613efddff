package org.dnonative.dno.config;

/**
 * An OpenAI-compatible chat endpoint (the LLM judge, or a teacher model). The API key is read from
 * the environment variable named by {@code apiKeyEnv} (null: the endpoint needs no key).
 *
 * @param timeoutSeconds   how long one request may take
 * @param concurrency      requests in flight at once
 * @param patienceSeconds  how long the endpoint may fail (timeouts, refused connections, 429, 5xx)
 *                         before the run stops with exit code 1; requests are retried with backoff
 *                         meanwhile, and {@code --resume} later asks exactly what is missing
 * @param maxUnusableShare the largest share of a stage's judgments (or teacher answers) that may be
 *                         unusable (answers that never parse, requests the endpoint refuses) before
 *                         the run stops with exit code 1 naming the cause; 1 = never stop
 */
public record EndpointConfig(String baseUrl, String model, String apiKeyEnv, double timeoutSeconds, int concurrency,
                             double patienceSeconds, double maxUnusableShare) {
    public EndpointConfig {
        new Checks().positive(timeoutSeconds, "timeout_seconds").atLeast(concurrency, 1, "concurrency")
                .in(patienceSeconds, 0, 1e7, true, false, "patience_seconds")
                .in(maxUnusableShare, 0, 1, false, false, "max_unusable_share").throwIfAny();
    }

    /** The patience as a Duration. */
    public java.time.Duration patience() {
        return java.time.Duration.ofNanos(Math.max(1, (long) (patienceSeconds * 1e9)));
    }

    /** The request timeout as a Duration. */
    public java.time.Duration timeout() {
        return java.time.Duration.ofMillis(Math.max(1, (long) Math.min(timeoutSeconds * 1000, Long.MAX_VALUE / 2)));
    }

    public static EndpointConfig defaults() {
        return new EndpointConfig(null, null, "OPENAI_API_KEY", 120, 8, 600, 0.5);
    }

    /** Both the base URL and the model name are set. */
    public boolean configured() {
        return baseUrl != null && !baseUrl.isBlank() && model != null && !model.isBlank();
    }

    /** Whether {@code unusable} of {@code total} is more than may be unusable. */
    public boolean tooManyUnusable(long unusable, long total) {
        return total > 0 && unusable > maxUnusableShare * total;
    }
}
