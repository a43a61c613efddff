package org.dnonative.oracle.judge;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How a transient failure (timeout, dropped connection, 429, 5xx) is retried: exponential backoff
 * with jitter, so that many concurrent requests hitting a rate limit do not come back in lockstep,
 * for as long as the endpoint's outage is shorter than the patience.
 *
 * <p>The patience is measured from the first failure since the endpoint last answered, and is shared
 * by every request to it: an endpoint that has been down for longer than the patience makes every
 * request in flight give up at about the same time (each after one more attempt), instead of each
 * request waiting out a patience of its own (with 8 in flight and a batch of 100, that would be 13
 * patiences before the caller learns of the outage).
 *
 * @param maxRetries     retries after the first attempt, at most ({@link Integer#MAX_VALUE}: as many as
 *                       the patience allows)
 * @param initialBackoff the base delay before the first retry
 * @param maxBackoff     the cap of the exponential delay
 * @param maxRetryAfter  the longest Retry-After a server may impose; longer values are capped
 * @param patience       how long the endpoint may fail before its requests give up
 */
public record RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff, Duration maxRetryAfter,
                          Duration patience) {

    /** The patience of an unlimited number of retries when none is given: ten minutes. */
    public static final Duration DEFAULT_PATIENCE = Duration.ofMinutes(10);

    public RetryPolicy {
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
        }
        requirePositive(initialBackoff, "initialBackoff");
        requirePositive(maxBackoff, "maxBackoff");
        requirePositive(maxRetryAfter, "maxRetryAfter");
        requirePositive(patience, "patience");
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff must be >= initialBackoff");
        }
    }

    /** At most {@code maxRetries} retries, within the default patience. */
    public RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff, Duration maxRetryAfter) {
        this(maxRetries, initialBackoff, maxBackoff, maxRetryAfter, DEFAULT_PATIENCE);
    }

    /** Retries within the default patience (ten minutes), backing off from 1 s up to 60 s. */
    public static RetryPolicy defaults() {
        return patient(DEFAULT_PATIENCE);
    }

    /** Retries for as long as {@code patience}, backing off from 1 s up to 60 s (Retry-After up to 120 s). */
    public static RetryPolicy patient(Duration patience) {
        return new RetryPolicy(Integer.MAX_VALUE, Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(120),
                patience);
    }

    /** This policy with another patience. */
    public RetryPolicy withPatience(Duration patience) {
        return new RetryPolicy(maxRetries, initialBackoff, maxBackoff, maxRetryAfter, patience);
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
