package org.dnonative.kernel;

import java.util.Arrays;

/**
 * Fixed seeds for random test inputs, one per test case: a function of the test's name and the
 * case's parameters only, so that every run draws the same inputs, two cases never share theirs
 * by accident, and the seed a failure message prints (see {@link RandomCase#toString()})
 * reproduces it.
 */
public final class CaseSeed {
    private CaseSeed() {}

    /** The seed of the case {@code params} of {@code test}; parameters are read through toString. */
    public static long of(String test, Object... params) {
        String key = test + Arrays.deepToString(params);
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < key.length(); i++) h = mix(h ^ key.charAt(i));
        return h;
    }

    /** splitmix64's finaliser: every input bit moves every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
