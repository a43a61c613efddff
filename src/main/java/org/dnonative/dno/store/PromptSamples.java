package org.dnonative.dno.store;

import java.util.List;

/** The candidates of one prompt in one iteration: K samples of pi_t, then the gold response when there is one. */
public record PromptSamples(String promptId, String prompt, List<Candidate> candidates) {
    public PromptSamples {
        candidates = List.copyOf(candidates);
    }

    public Candidate candidate(String id) {
        for (Candidate c : candidates) if (c.id().equals(id)) return c;
        throw new IllegalArgumentException("prompt " + promptId + " has no candidate '" + id + "'");
    }
}
