package org.dnonative.oracle.judge;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A teacher model behind an OpenAI-compatible chat-completions endpoint: writes the "gold"
 * response that DNO adds to the policy's samples (the paper used GPT-4-Turbo). Greedy
 * (temperature 0) by default; the same retries and concurrency limit as the judge. The caller
 * persists the answers (the DNO run writes them into its prompt split once), so a resumed run
 * never asks again.
 */
public final class OpenAiTeacher {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String model;
    private final double temperature;
    private final int maxTokens;
    private final int concurrency;
    private final ChatCompletionClient client;

    /**
     * @param apiKeyEnv name of the environment variable with the API key, or null for none; the key
     *                  itself is never stored
     */
    public OpenAiTeacher(String baseUrl, String model, String apiKeyEnv, Duration timeout, int concurrency,
                         double temperature, int maxTokens, RetryPolicy retry, UnaryOperator<String> environment) {
        if (baseUrl == null || baseUrl.isBlank()) throw new IllegalArgumentException("teacher base URL is missing");
        if (model == null || model.isBlank()) throw new IllegalArgumentException("teacher model is missing");
        if (concurrency < 1) throw new IllegalArgumentException("teacher concurrency must be >= 1, was " + concurrency);
        if (maxTokens < 1) throw new IllegalArgumentException("teacher max tokens must be >= 1, was " + maxTokens);
        String key = null;
        if (apiKeyEnv != null && !apiKeyEnv.isBlank()) {
            key = environment.apply(apiKeyEnv);
            if (key == null || key.isBlank())
                throw new IllegalArgumentException("the teacher's API key variable " + apiKeyEnv + " is not set");
        }
        this.model = model;
        this.temperature = temperature;
        this.maxTokens = maxTokens;
        this.concurrency = concurrency;
        this.client = new ChatCompletionClient(URI.create(baseUrl), key, timeout, concurrency, retry, new JudgeCounters());
    }

    /** The teacher's response to each prompt, in order; null where no usable answer could be had. */
    public List<String> respond(List<String> prompts) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(concurrency, Math.max(1, prompts.size())));
        try {
            List<Future<String>> futures = new ArrayList<>();
            for (String p : prompts) futures.add(pool.submit(() -> one(p)));
            List<String> out = new ArrayList<>();
            for (Future<String> f : futures) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    out.add(null);
                }
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the teacher", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private String one(String prompt) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        body.put("temperature", temperature);
        body.put("max_tokens", maxTokens);
        ObjectNode message = body.putArray("messages").addObject();
        message.put("role", "user");
        message.put("content", prompt);
        try {
            String text = client.complete(body).content();
            return text == null || text.isBlank() ? null : text.strip();
        } catch (MalformedAnswerException | JudgeTransportException e) {
            return null;
        }
    }
}
