package org.dnonative.oracle.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(1000),
            Duration.ofSeconds(30));

    @Test
    void retryAfterIsSecondsOrAnHttpDate() {
        java.time.Instant now = java.time.Instant.parse("2026-11-27T08:00:00Z");
        assertEquals(java.util.Optional.of(Duration.ofSeconds(120)), ChatCompletionClient.parseRetryAfter("120", now));
        assertEquals(java.util.Optional.of(Duration.ofMillis(1500)), ChatCompletionClient.parseRetryAfter(" 1.5 ", now));
        assertEquals(java.util.Optional.of(Duration.ofSeconds(90)),
                ChatCompletionClient.parseRetryAfter("Fri, 27 Nov 2026 08:01:30 GMT", now));
        assertEquals(java.util.Optional.of(Duration.ZERO),
                ChatCompletionClient.parseRetryAfter("Fri, 27 Nov 2026 07:59:00 GMT", now), "a date in the past: no wait");
        assertTrue(ChatCompletionClient.parseRetryAfter("soon", now).isEmpty());
        assertTrue(ChatCompletionClient.parseRetryAfter("-5", now).isEmpty());
    }

    @Test
    void delaysGrowExponentiallyWithJitterUpToTheCap() {
        Random random = new Random(3);
        for (int retry = 0; retry < 8; retry++) {
            long full = Math.min(100L << retry, 1000);
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 50; i++) {
                long d = policy.delay(retry, null, random).toMillis();
                assertTrue(d >= full / 2 && d <= full, "retry " + retry + ": " + d);
                seen.add(d);
            }
            assertTrue(seen.size() > 5, "jitter spreads retries " + seen);
        }
    }

    @Test
    void retryAfterIsAFloorCappedByMaxRetryAfter() {
        Random random = new Random(1);
        assertEquals(5000, policy.delay(0, Duration.ofSeconds(5), random).toMillis());
        assertEquals(30000, policy.delay(0, Duration.ofHours(1), random).toMillis());
        assertTrue(policy.delay(4, Duration.ofMillis(1), random).toMillis() >= 500);
    }

    @Test
    void theDefaultsRetryForTenMinutesAndAPatienceCanBeGiven() {
        assertEquals(Duration.ofMinutes(10), RetryPolicy.defaults().patience());
        assertEquals(Integer.MAX_VALUE, RetryPolicy.defaults().maxRetries(), "the patience, not a count, decides");
        assertEquals(Duration.ofSeconds(90), RetryPolicy.patient(Duration.ofSeconds(90)).patience());
        assertEquals(Duration.ofSeconds(3), policy.withPatience(Duration.ofSeconds(3)).patience());
        // the exponential delay of a long outage stays at the cap (no shift overflow at retry 40)
        assertTrue(RetryPolicy.defaults().delay(40, null, new Random(2)).toMillis() <= 60_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> policy.withPatience(Duration.ZERO));
        assertTrue(e.getMessage().contains("patience"), e.getMessage());
    }

    @Test
    void badSettingsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RetryPolicy(-1, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1)));
        assertTrue(e.getMessage().contains("maxRetries"));
        e = assertThrows(IllegalArgumentException.class,
                () -> new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(1), Duration.ofMillis(1)));
        assertTrue(e.getMessage().contains("maxBackoff"));
    }
}
