package org.dnonative.oracle;

/** Whether a judgment can be used, and whether asking again could change that. */
public enum JudgmentStatus {
    /** A usable answer. */
    OK,
    /**
     * The oracle answered, but not usably (e.g. malformed output after the allowed re-asks). Final:
     * it is cached like an answer so a rerun never pays for it again. The prompt yields no pair.
     */
    UNUSABLE,
    /**
     * No answer could be obtained (transport failures after all retries, or an error response).
     * Not cached: a resumed run asks again. The prompt yields no pair in this run.
     */
    FAILED
}
