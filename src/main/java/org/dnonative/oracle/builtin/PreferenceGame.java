package org.dnonative.oracle.builtin;

/**
 * The symmetric two-player game behind a preference over finitely many outcomes: each player picks
 * a distribution over outcomes, the payoff is P(mine ≻ theirs). Because the matrix satisfies
 * P(i ≻ j) + P(j ≻ i) = 1, the game is zero-sum around 1/2 and its value is 1/2: a Nash
 * equilibrium is a policy that no response beats more than half of the time. Everything here is
 * exact.
 */
public final class PreferenceGame {

    /** Tolerance for a distribution's sum and for the matrix's symmetry. */
    private static final double TOLERANCE = 1e-9;

    private final double[][] preference;

    /** @param preference {@code preference[i][j]} = P(i ≻ j); square, in [0,1], P(i≻j)+P(j≻i)=1 */
    public PreferenceGame(double[][] preference) {
        if (preference == null || preference.length == 0) {
            throw new IllegalArgumentException("preference must be a non-empty square matrix");
        }
        int n = preference.length;
        this.preference = new double[n][];
        for (int i = 0; i < n; i++) {
            if (preference[i] == null || preference[i].length != n) {
                throw new IllegalArgumentException("preference must be square; row " + i + " is not of length " + n);
            }
            this.preference[i] = preference[i].clone();
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double p = this.preference[i][j];
                if (!(p >= 0 && p <= 1)) {
                    throw new IllegalArgumentException("preference[" + i + "][" + j + "] must be in [0,1], was " + p);
                }
                if (Math.abs(p + this.preference[j][i] - 1) > TOLERANCE) {
                    throw new IllegalArgumentException("preference[" + i + "][" + j + "] + preference["
                            + j + "][" + i + "] must be 1, was " + (p + this.preference[j][i]));
                }
            }
        }
    }

    public int size() {
        return preference.length;
    }

    /** P(i ≻ j). */
    public double preference(int i, int j) {
        return preference[i][j];
    }

    /** Expected P(y ≻ y') for y ~ policy, y' ~ opponent. */
    public double winRate(double[] policy, double[] opponent) {
        checkDistribution(policy, "policy");
        checkDistribution(opponent, "opponent");
        double total = 0;
        for (int i = 0; i < size(); i++) {
            total += policy[i] * winRateOf(i, opponent);
        }
        return total;
    }

    /** Expected P(outcome ≻ y') for y' ~ opponent. */
    public double winRateOf(int outcome, double[] opponent) {
        checkDistribution(opponent, "opponent");
        if (outcome < 0 || outcome >= size()) {
            throw new IllegalArgumentException("outcome must be in [0, " + size() + "), was " + outcome);
        }
        double total = 0;
        for (int j = 0; j < size(); j++) {
            total += opponent[j] * preference[outcome][j];
        }
        return total;
    }

    /** The best pure response to a policy and its win-rate (lowest index among equals). */
    public BestResponse bestResponse(double[] policy) {
        checkDistribution(policy, "policy");
        int best = 0;
        double bestValue = winRateOf(0, policy);
        for (int i = 1; i < size(); i++) {
            double v = winRateOf(i, policy);
            if (v > bestValue + TOLERANCE) {
                best = i;
                bestValue = v;
            }
        }
        return new BestResponse(best, bestValue);
    }

    /**
     * max over responses of P(response ≻ policy) − 1/2: zero exactly at a Nash equilibrium, and a
     * mixed response never does better than the best pure one, so this is the distance sought.
     */
    public double exploitability(double[] policy) {
        return Math.max(0.0, bestResponse(policy).winRate() - 0.5);
    }

    private void checkDistribution(double[] d, String name) {
        if (d == null || d.length != size()) {
            throw new IllegalArgumentException(name + " must have " + size() + " probabilities");
        }
        double sum = 0;
        for (int i = 0; i < d.length; i++) {
            if (!(d[i] >= 0)) {
                throw new IllegalArgumentException(name + "[" + i + "] must be >= 0, was " + d[i]);
            }
            sum += d[i];
        }
        if (Math.abs(sum - 1) > 1e-6) {
            throw new IllegalArgumentException(name + " must sum to 1, sums to " + sum);
        }
    }

    /** A pure response (an outcome index) and its expected win-rate against the policy. */
    public record BestResponse(int outcome, double winRate) {
    }
}
