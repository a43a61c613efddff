package org.dnonative.kernel;

/**
 * What one DNO loss call computed.
 *
 * @param loss            mean over pairs of the pairwise loss
 * @param logps           per sequence, the sum (or mean) of its counted token log-probs [N]
 * @param z               per pair, beta * (chosen log-ratio - rejected log-ratio) [P]
 * @param chosenRewards   per pair, beta * (logp - ref_logp) of the chosen sequence [P]
 * @param rejectedRewards per pair, the same for the rejected sequence [P]
 */
public record DnoLossResult(float loss, float[] logps, float[] z, float[] chosenRewards, float[] rejectedRewards) {
    /** Whether the policy already prefers the chosen sequence of pair i (z > 0). */
    public boolean preferred(int pair) {
        return z[pair] > 0;
    }

    /** Fraction of pairs with z > 0. */
    public double accuracy() {
        int n = 0;
        for (float v : z) if (v > 0) n++;
        return (double) n / z.length;
    }

    /** Mean over pairs of chosen reward minus rejected reward (= mean z). */
    public double rewardMargin() {
        double s = 0;
        for (int i = 0; i < z.length; i++) s += chosenRewards[i] - rejectedRewards[i];
        return s / z.length;
    }
}
