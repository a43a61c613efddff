package org.dnonative.oracle;

import java.util.Objects;

/** One prompt and two candidates: asks for P(first ≻ second | prompt). */
public record PairwiseRequest(String prompt, Candidate first, Candidate second) {
    public PairwiseRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(first, "first");
        Objects.requireNonNull(second, "second");
    }
}
