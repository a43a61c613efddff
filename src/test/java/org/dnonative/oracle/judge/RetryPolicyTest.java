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
    void badSettingsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RetryPolicy(-1, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1)));
        assertTrue(e.getMessage().contains("maxRetries"));
        e = assertThrows(IllegalArgumentException.class,
                () -> new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(1), Duration.ofMillis(1)));
        assertTrue(e.getMessage().contains("maxBackoff"));
    }
}
