package org.dnonative.oracle;

import java.util.Objects;

/**
 * P(first ≻ second | prompt), in [0, 1]; 0.5 is a tie. Present only when the status is
 * {@link JudgmentStatus#OK} (NaN otherwise).
 */
public record PairwiseJudgment(JudgmentStatus status, double probabilityFirstWins, String detail) {

    public PairwiseJudgment {
        Objects.requireNonNull(status, "status");
        detail = detail == null ? "" : detail;
        if (status == JudgmentStatus.OK
                && !(probabilityFirstWins >= 0.0 && probabilityFirstWins <= 1.0)) {
            throw new IllegalArgumentException(
                    "probabilityFirstWins must be in [0, 1], was " + probabilityFirstWins);
        }
        if (status != JudgmentStatus.OK) {
            probabilityFirstWins = Double.NaN;
        }
    }

    public static PairwiseJudgment ok(double probabilityFirstWins, String detail) {
        return new PairwiseJudgment(JudgmentStatus.OK, probabilityFirstWins, detail);
    }

    public static PairwiseJudgment unusable(String why) {
        return new PairwiseJudgment(JudgmentStatus.UNUSABLE, Double.NaN, why);
    }

    public static PairwiseJudgment failed(String why) {
        return new PairwiseJudgment(JudgmentStatus.FAILED, Double.NaN, why);
    }

    public boolean isUsable() {
        return status == JudgmentStatus.OK;
    }
}
