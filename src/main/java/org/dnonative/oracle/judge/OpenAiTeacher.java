package org.dnonative.oracle.judge;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import org.dnonative.oracle.JudgmentStatus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A teacher model behind an OpenAI-compatible chat-completions endpoint: writes the "gold"
 * response that DNO adds to the policy's samples (the paper used GPT-4-Turbo). Greedy
 * (temperature 0) by default; the same retries, patience and concurrency limit as the judge.
 *
 * <p>With a cache directory every answer is kept in a {@link JudgmentCache} before it is returned,
 * so a run killed before it saved its prompt split asks only what it had not been told; an empty
 * answer is cached as final, a refused request (HTTP 4xx) is not. An endpoint down for longer than
 * the patience makes {@link #respond} throw {@link JudgeUnavailableException} instead of leaving
 * prompts without gold for good.
 */
public final class OpenAiTeacher implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String model;
    private final double temperature;
    private final int maxTokens;
    private final int concurrency;
    private final ChatCompletionClient client;
    private final JudgmentCache cache;

    /** An answer, or why there is none. */
    public record Answer(JudgmentStatus status, String text, String detail) {
        public boolean usable() {
            return status == JudgmentStatus.OK;
        }
    }

    /** A teacher without a persistent cache. */
    public OpenAiTeacher(String baseUrl, String model, String apiKeyEnv, Duration timeout, int concurrency,
                         double temperature, int maxTokens, RetryPolicy retry, UnaryOperator<String> environment) {
        this(baseUrl, model, apiKeyEnv, timeout, concurrency, temperature, maxTokens, retry, environment, null);
    }

    /**
     * @param apiKeyEnv name of the environment variable with the API key, or null for none; the key
     *                  itself is never stored
     * @param cacheDir  the directory of the answer cache (null: none)
     */
    public OpenAiTeacher(String baseUrl, String model, String apiKeyEnv, Duration timeout, int concurrency,
                         double temperature, int maxTokens, RetryPolicy retry, UnaryOperator<String> environment,
                         Path cacheDir) {
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
        this.cache = cacheDir == null ? JudgmentCache.inMemory() : JudgmentCache.open(cacheDir);
    }

    /**
     * The teacher's response to each prompt, in order; null where it gave no usable answer.
     *
     * @throws JudgeUnavailableException when the endpoint failed for longer than the patience
     */
    public List<String> respond(List<String> prompts) {
        return answer(prompts).stream().map(a -> a.usable() ? a.text() : null).toList();
    }

    /**
     * The teacher's answer to each prompt, in order, usable or not (with why not).
     *
     * @throws JudgeUnavailableException when the endpoint failed for longer than the patience; the
     *         answers had until then are cached
     */
    public List<Answer> answer(List<String> prompts) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(concurrency, Math.max(1, prompts.size())));
        AtomicReference<String> outage = new AtomicReference<>();
        try {
            List<Future<Answer>> futures = new ArrayList<>();
            for (String p : prompts) {
                futures.add(pool.submit(() -> {
                    if (outage.get() != null) return new Answer(JudgmentStatus.FAILED, null, "not asked: the endpoint is down");
                    Answer a = one(p);
                    if (a.status() == JudgmentStatus.FAILED) outage.compareAndSet(null, a.detail());
                    return a;
                }));
            }
            List<Answer> out = new ArrayList<>();
            for (Future<Answer> f : futures) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
            }
            if (outage.get() != null) {
                long missing = out.stream().filter(a -> a.status() == JudgmentStatus.FAILED).count();
                throw new JudgeUnavailableException("teacher " + model + ": " + missing + " of " + out.size()
                        + " answers could not be had (" + outage.get() + ")", (int) missing, out.size());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JudgeTransportException("interrupted while waiting for the teacher", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private Answer one(String prompt) {
        ObjectNode sampling = JSON.createObjectNode().put("temperature", temperature).put("max_tokens", maxTokens);
        String key = CacheKeys.of("teacher", model, List.of(), prompt, List.of(), sampling);
        var hit = cache.get(key);
        if (hit.isPresent()) return decode(hit.get());
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        body.put("temperature", temperature);
        body.put("max_tokens", maxTokens);
        ObjectNode message = body.putArray("messages").addObject();
        message.put("role", "user");
        message.put("content", prompt);
        ObjectNode entry = JSON.createObjectNode().put("kind", "teacher");
        try {
            String text = client.complete(body).content();
            if (text == null || text.isBlank()) entry.put("status", JudgmentStatus.UNUSABLE.name()).put("detail", "an empty answer");
            else entry.put("status", JudgmentStatus.OK.name()).put("answer", text.strip());
        } catch (MalformedAnswerException e) {
            entry.put("status", JudgmentStatus.UNUSABLE.name()).put("detail", e.getMessage());
        } catch (JudgeTransportException.Rejected e) {
            // Refused now, but a fixed endpoint would answer: not cached.
            return new Answer(JudgmentStatus.UNUSABLE, null, e.getMessage());
        } catch (JudgeTransportException e) {
            return new Answer(JudgmentStatus.FAILED, null, e.getMessage());
        }
        cache.put(key, entry);
        return decode(entry);
    }

    private static Answer decode(ObjectNode entry) {
        JudgmentStatus status;
        try {
            status = JudgmentStatus.valueOf(entry.path("status").asText());
        } catch (IllegalArgumentException e) {
            status = JudgmentStatus.UNUSABLE;  // an entry this version did not write
        }
        return new Answer(status, status == JudgmentStatus.OK ? entry.path("answer").asText() : null,
                entry.path("detail").asText(""));
    }

    @Override
    public void close() {
        cache.close();
    }
}
