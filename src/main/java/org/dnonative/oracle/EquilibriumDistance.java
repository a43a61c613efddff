package org.dnonative.oracle;

import java.util.List;
import java.util.Map;

/**
 * Implemented by oracles whose game is known exactly (the built-in programmatic ones), so that a
 * policy's distance from the oracle's Nash equilibrium can be reported. The DNO loop checks for it
 * with {@code instanceof}.
 */
public interface EquilibriumDistance {

    /**
     * Exploitability of the policy that produced these samples: the best response's expected
     * win-rate against it, minus 1/2. Zero exactly at a Nash equilibrium of the symmetric
     * preference game, positive elsewhere; at most 1/2.
     *
     * @param samplesByPrompt the policy's sampled responses, per prompt
     */
    double exploitability(Map<String, List<String>> samplesByPrompt);
}
