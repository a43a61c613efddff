package org.dnonative.oracle.judge;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How a transient failure (timeout, dropped connection, 429, 5xx) is retried: exponential backoff
 * with jitter, so that many concurrent requests hitting a rate limit do not come back in lockstep.
 *
 * @param maxRetries     retries after the first attempt (0: never retry)
 * @param initialBackoff the base delay before the first retry
 * @param maxBackoff     the cap of the exponential delay
 * @param maxRetryAfter  the longest Retry-After a server may impose; longer values are capped
 */
public record RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff, Duration maxRetryAfter) {

    public RetryPolicy {
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
        }
        requirePositive(initialBackoff, "initialBackoff");
        requirePositive(maxBackoff, "maxBackoff");
        requirePositive(maxRetryAfter, "maxRetryAfter");
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff must be >= initialBackoff");
        }
    }

    public static RetryPolicy defaults() {
        return new RetryPolicy(6, Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(120));
    }

    /**
     * The wait before retry number {@code retry} (0-based): half the exponential delay plus a random
     * part of the other half, and at least the server's Retry-After when it sent one.
     */
    public Duration delay(int retry, Duration retryAfter, RandomGenerator random) {
        long base = initialBackoff.toMillis() << Math.min(retry, 30);
        long capped = Math.min(Math.max(base, 1), maxBackoff.toMillis());
        long jittered = capped / 2 + (long) (random.nextDouble() * (capped - capped / 2));
        if (retryAfter != null) {
            long serverMillis = Math.min(retryAfter.toMillis(), maxRetryAfter.toMillis());
            jittered = Math.max(jittered, serverMillis);
        }
        return Duration.ofMillis(jittered);
    }

    private static void requirePositive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }
}
