package org.dnonative.oracle;

import java.util.List;
import java.util.Objects;

/**
 * Scores for the candidates of one prompt, in the order the candidates were given (not the order
 * in which a judge was shown them; that order is kept in {@code presentationOrder} for
 * reproducibility: element i is the index of the candidate shown i-th, empty when not applicable).
 * Scores are present only when the status is {@link JudgmentStatus#OK}.
 */
public record ListwiseJudgment(JudgmentStatus status, List<Double> scores,
                               List<Integer> presentationOrder, String detail) {

    public ListwiseJudgment {
        Objects.requireNonNull(status, "status");
        scores = List.copyOf(Objects.requireNonNull(scores, "scores"));
        presentationOrder = List.copyOf(Objects.requireNonNull(presentationOrder, "presentationOrder"));
        detail = detail == null ? "" : detail;
        if (status == JudgmentStatus.OK && scores.isEmpty()) {
            throw new IllegalArgumentException("scores must not be empty for an OK judgment");
        }
        if (status != JudgmentStatus.OK && !scores.isEmpty()) {
            throw new IllegalArgumentException("scores must be empty unless the status is OK, was " + status);
        }
    }

    public static ListwiseJudgment ok(List<Double> scores, List<Integer> presentationOrder) {
        return new ListwiseJudgment(JudgmentStatus.OK, scores, presentationOrder, "");
    }

    public static ListwiseJudgment unusable(String why) {
        return new ListwiseJudgment(JudgmentStatus.UNUSABLE, List.of(), List.of(), why);
    }

    public static ListwiseJudgment failed(String why) {
        return new ListwiseJudgment(JudgmentStatus.FAILED, List.of(), List.of(), why);
    }

    public boolean isUsable() {
        return status == JudgmentStatus.OK;
    }

    public double score(int candidateIndex) {
        if (!isUsable()) {
            throw new IllegalStateException("no scores in a " + status + " judgment: " + detail);
        }
        return scores.get(candidateIndex);
    }
}
