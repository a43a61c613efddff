package org.dnonative.oracle;

import java.util.Objects;

/**
 * One response to a prompt, as shown to an oracle. The origin is carried because DNO's pair rules
 * treat the policy's own samples and the teacher's gold response differently (a smaller margin is
 * enough when the positive is the policy's own sample); oracles themselves never see it.
 */
public record Candidate(String text, Origin origin) {

    /** Where a candidate came from. */
    public enum Origin {
        /** Sampled from the policy being trained. */
        POLICY_SAMPLE,
        /** The teacher's reference ("gold") response. */
        GOLD
    }

    public Candidate {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(origin, "origin");
    }

    public static Candidate sample(String text) {
        return new Candidate(text, Origin.POLICY_SAMPLE);
    }

    public static Candidate gold(String text) {
        return new Candidate(text, Origin.GOLD);
    }

    public boolean isGold() {
        return origin == Origin.GOLD;
    }
}
