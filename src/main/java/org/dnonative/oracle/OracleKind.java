package org.dnonative.oracle;

/** The kinds of answer a {@link PreferenceOracle} can give. */
public enum OracleKind {
    /** A score per candidate, all candidates of a prompt judged side by side. */
    LISTWISE,
    /** P(a ≻ b | x) for one pair, not necessarily derived from any score. */
    PAIRWISE
}
