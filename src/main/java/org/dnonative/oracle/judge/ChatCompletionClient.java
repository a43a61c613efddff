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
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Sends chat-completions requests to an OpenAI-compatible endpoint: at most {@code concurrency} in
 * flight, transient failures retried per the {@link RetryPolicy} for as long as the endpoint has
 * been failing for less than its patience (one clock for all requests: see {@link RetryPolicy}).
 * The API key lives only in this object's memory and in the Authorization header; error messages
 * are scrubbed of it.
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
    /** System.nanoTime() of the first failure since the endpoint last answered, or NO_OUTAGE. */
    private final AtomicLong outageSince = new AtomicLong(NO_OUTAGE);
    private static final long NO_OUTAGE = Long.MIN_VALUE;
    /** Responses the endpoint has given (200 or a refusal): tells an outage from a request only this endpoint fails. */
    private final AtomicLong answers = new AtomicLong();
    /** Failures while others are answered after which a request is given up (see {@link #complete}). */
    static final int ITEM_FAILURES = 3;

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
        int lastStatus = 0;
        long answersAtFirstFailure = -1;
        int failuresWhileOthersAnswered = 0;
        for (int attempt = 0; ; attempt++) {
            Duration retryAfter = null;
            boolean rateLimited = false;
            try {
                HttpResponse<String> response = send(payload);
                int status = response.statusCode();
                if (status == 200) {
                    answered();
                    return parse(response.body());
                }
                lastError = "HTTP " + status + ": " + truncate(response.body());
                lastStatus = status;
                if (status == 429 || status == 503) {
                    retryAfter = retryAfter(response).orElse(null);
                    rateLimited = status == 429;
                } else if (status != 408 && status < 500) {
                    answered();  // the endpoint is up; it refuses this request
                    throw new JudgeTransportException.Rejected(scrub(lastError) + " (not retried)", status,
                            scrub(truncate(response.body())));
                }
            } catch (HttpTimeoutException e) {
                lastError = "timed out after " + requestTimeout.toMillis() + " ms";
            } catch (IOException e) {
                lastError = "connection failed: " + e;
            }
            long failingNanos = failing(lastError);
            long patienceNanos = retry.patience().toNanos();
            // The endpoint answers other requests but fails this one again and again (a 500 or a
            // timeout for this input only): the endpoint is up, so waiting cannot help and would
            // block the run; like a refusal, it is unusable now and asked again on a resume. Only
            // failures after others were answered count, so that the last failure of an outage,
            // arriving just after the first answer once it is over, is not taken for one.
            if (answersAtFirstFailure < 0) answersAtFirstFailure = answers.get();
            else if (!rateLimited && answers.get() > answersAtFirstFailure) failuresWhileOthersAnswered++;
            if (failuresWhileOthersAnswered >= ITEM_FAILURES) {
                throw new JudgeTransportException.Rejected(scrub("failed " + (attempt + 1) + " times while " + endpoint
                        + " answered other requests; last: " + lastError), lastStatus, "");
            }
            if (attempt >= retry.maxRetries() || failingNanos >= patienceNanos) {
                throw new JudgeTransportException(scrub("gave up after " + (attempt + 1) + " attempt" + (attempt == 0 ? "" : "s")
                        + "; " + endpoint + " has failed for " + seconds(failingNanos) + " (patience "
                        + seconds(patienceNanos) + "); last: " + lastError), null);
            }
            counters.retries.incrementAndGet();
            Duration wait = retry.delay(attempt, retryAfter, ThreadLocalRandom.current());
            // The last attempt is made when the patience runs out, not a whole backoff after it.
            long left = patienceNanos - failingNanos;
            if (wait.toNanos() > left) wait = Duration.ofNanos(left);
            LOG.debug("request failed ({}); retry {} in {} ms", scrub(lastError), attempt + 1, wait.toMillis());
            sleep(wait);
        }
    }

    /** The endpoint answered: an outage, if there was one, is over. */
    private void answered() {
        answers.incrementAndGet();
        long since = outageSince.getAndSet(NO_OUTAGE);
        if (since != NO_OUTAGE) {
            LOG.info("{} answers again after {}", endpoint, seconds(System.nanoTime() - since));
        }
    }

    /** Records a failed attempt; how long the endpoint has been failing (shared by all requests). */
    private long failing(String error) {
        long now = System.nanoTime();
        if (outageSince.compareAndSet(NO_OUTAGE, now)) {
            LOG.warn("{} failed ({}); retrying for up to {}", endpoint, scrub(error), seconds(retry.patience().toNanos()));
        }
        long since = outageSince.get();
        return since == NO_OUTAGE ? 0 : Math.max(0, now - since);
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
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
