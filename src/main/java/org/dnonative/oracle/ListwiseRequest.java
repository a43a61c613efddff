package org.dnonative.oracle;

import java.util.List;
import java.util.Objects;

/** One prompt and all of its candidates, to be scored side by side. */
public record ListwiseRequest(String prompt, List<Candidate> candidates) {
    public ListwiseRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(candidates, "candidates");
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("candidates must not be empty");
        }
        candidates = List.copyOf(candidates);
    }
}
