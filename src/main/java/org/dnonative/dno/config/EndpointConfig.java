package org.dnonative.dno.config;

/**
 * An OpenAI-compatible chat endpoint (the LLM judge, or a teacher model). The API key is read from
 * the environment variable named by {@code apiKeyEnv} (null: the endpoint needs no key).
 */
public record EndpointConfig(String baseUrl, String model, String apiKeyEnv, double timeoutSeconds, int concurrency) {
    public EndpointConfig {
        new Checks().positive(timeoutSeconds, "timeout_seconds").atLeast(concurrency, 1, "concurrency").throwIfAny();
    }

    public static EndpointConfig defaults() {
        return new EndpointConfig(null, null, "OPENAI_API_KEY", 120, 8);
    }

    /** Both the base URL and the model name are set. */
    public boolean configured() {
        return baseUrl != null && !baseUrl.isBlank() && model != null && !model.isBlank();
    }
}
