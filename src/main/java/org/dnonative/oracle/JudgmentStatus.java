package org.dnonative.oracle;

/** Whether a judgment can be used, and whether asking again could change that. */
public enum JudgmentStatus {
    /** A usable answer. */
    OK,
    /**
     * The oracle answered, but not usably: malformed output after the allowed re-asks (final, and
     * cached like an answer so a rerun never pays for it again), or a request the endpoint refused
     * (an HTTP 4xx: not cached, since a fixed endpoint would answer it). The prompt yields no pair;
     * a run stops when too many are unusable ({@code max_unusable_share}).
     */
    UNUSABLE,
    /**
     * No answer could be obtained: the endpoint failed (timeouts, refused connections, 429, 5xx) for
     * longer than the patience. Never final: not cached, and a run stops rather than go on without
     * the judgment, so that a resumed run asks it again.
     */
    FAILED
}
