package org.dnonative.oracle.judge;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Sends chat-completions requests to an OpenAI-compatible endpoint: at most {@code concurrency} in
 * flight, transient failures retried per the {@link RetryPolicy}. The API key lives only in this
 * object's memory and in the Authorization header; error messages are scrubbed of it.
 */
final class ChatCompletionClient {

    private static final Logger LOG = LoggerFactory.getLogger(ChatCompletionClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY_IN_MESSAGE = 300;

    private final URI endpoint;
    private final String apiKey;
    private final Duration requestTimeout;
    private final RetryPolicy retry;
    private final Semaphore inFlight;
    private final JudgeCounters counters;
    private final HttpClient http;

    ChatCompletionClient(URI baseUrl, String apiKey, Duration requestTimeout, int concurrency, RetryPolicy retry,
                         JudgeCounters counters) {
        String base = baseUrl.toString();
        this.endpoint = URI.create((base.endsWith("/") ? base : base + "/") + "chat/completions");
        this.apiKey = apiKey;
        this.requestTimeout = requestTimeout;
        this.retry = retry;
        this.inFlight = new Semaphore(concurrency, true);
        this.counters = counters;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(requestTimeout)
                .build();
    }

    /**
     * Sends {@code body}, retrying transient failures.
     *
     * @throws MalformedAnswerException when a 200 response carries no readable message
     * @throws JudgeTransportException  when no response could be had
     */
    ChatReply complete(ObjectNode body) throws MalformedAnswerException {
        String payload = body.toString();
        String lastError = "";
        for (int attempt = 0; ; attempt++) {
            Duration retryAfter = null;
            try {
                HttpResponse<String> response = send(payload);
                int status = response.statusCode();
                if (status == 200) {
                    return parse(response.body());
                }
                lastError = "HTTP " + status + ": " + truncate(response.body());
                if (status == 429 || status == 503) {
                    retryAfter = retryAfter(response).orElse(null);
                } else if (status != 408 && status < 500) {
                    throw new JudgeTransportException.Rejected(scrub(lastError) + " (not retried)", status,
                            scrub(truncate(response.body())));
                }
            } catch (HttpTimeoutException e) {
                lastError = "timed out after " + requestTimeout.toMillis() + " ms";
            } catch (IOException e) {
                lastError = "connection failed: " + e;
            }
            if (attempt >= retry.maxRetries()) {
                throw new JudgeTransportException("gave up after " + (attempt + 1) + " attempts; last: "
                        + scrub(lastError), null);
            }
            counters.retries.incrementAndGet();
            Duration wait = retry.delay(attempt, retryAfter, ThreadLocalRandom.current());
            LOG.debug("judge request failed ({}); retry {} in {} ms", scrub(lastError), attempt + 1, wait.toMillis());
            sleep(wait);
        }
    }

    private HttpResponse<String> send(String payload) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(payload));
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JudgeTransportException("interrupted while waiting for a request slot", e);
        }
        try {
            counters.requests.incrementAndGet();
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JudgeTransportException("interrupted during a request", e);
        } finally {
            inFlight.release();
        }
    }

    private ChatReply parse(String responseBody) throws MalformedAnswerException {
        JsonNode root;
        try {
            root = JSON.readTree(responseBody);
        } catch (JsonProcessingException e) {
            throw new MalformedAnswerException("response body is not JSON: " + truncate(responseBody));
        }
        JsonNode usage = root.path("usage");
        counters.promptTokens.addAndGet(usage.path("prompt_tokens").asLong(0));
        counters.completionTokens.addAndGet(usage.path("completion_tokens").asLong(0));
        JsonNode choice = root.path("choices").path(0);
        JsonNode content = choice.path("message").path("content");
        if (!content.isTextual()) {
            throw new MalformedAnswerException("no choices[0].message.content in the response");
        }
        JsonNode logprobs = choice.path("logprobs").path("content");
        return new ChatReply(content.asText(), logprobs.isArray() ? logprobs : null);
    }

    private static Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").flatMap(v -> parseRetryAfter(v, Instant.now()));
    }

    /**
     * Retry-After in either form of RFC 9110: delta-seconds ("120") or an HTTP-date
     * ("Wed, 21 Oct 2015 07:28:00 GMT", the wait until then, or zero if it has passed); empty when
     * it is neither, and the exponential backoff applies.
     */
    static Optional<Duration> parseRetryAfter(String value, Instant now) {
        String v = value.trim();
        try {
            double seconds = Double.parseDouble(v);
            return seconds >= 0 && Double.isFinite(seconds) ? Optional.of(Duration.ofMillis((long) (seconds * 1000)))
                    : Optional.empty();
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration wait = Duration.between(now, at);
                return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
            } catch (DateTimeParseException notADate) {
                return Optional.empty();
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JudgeTransportException("interrupted during a retry backoff", e);
        }
    }

    private static String truncate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= MAX_BODY_IN_MESSAGE ? s : s.substring(0, MAX_BODY_IN_MESSAGE) + "...";
    }

    /** Some servers echo request headers in error bodies; keep the key out of every message. */
    String scrub(String message) {
        return apiKey == null || apiKey.isEmpty() ? message : message.replace(apiKey, "***");
    }
}
