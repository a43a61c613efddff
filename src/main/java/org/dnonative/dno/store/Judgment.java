package org.dnonative.dno.store;

import java.util.List;
import java.util.Map;

/**
 * The oracle's judgment of one prompt's candidates, joined to them by ids: list-wise {@code scores}
 * by candidate id, or the pairwise {@code preference} matrix P(row ≻ column) over
 * {@code candidateIds}. {@code status} is OK, UNUSABLE (the oracle answered nothing usable) or
 * FAILED (transport); only OK judgments make pairs.
 */
public record Judgment(String promptId, String status, Map<String, Double> scores, List<String> candidateIds,
                       double[][] preference, String detail) {
    public static final String OK = "OK";

    public boolean ok() {
        return OK.equals(status);
    }

    public boolean listwise() {
        return scores != null;
    }
}
