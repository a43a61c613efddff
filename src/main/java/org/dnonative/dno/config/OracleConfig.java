package org.dnonative.dno.config;

/**
 * The preference oracle.
 *
 * @param kind         builtin (the embedded cyclic-style oracle) or judge (an OpenAI-compatible LLM judge)
 * @param judge        the judge's endpoint, when kind is judge
 * @param mode         what the judge is asked: listwise scores, pairwise preferences, or both
 * @param cycleStrength strength of the built-in oracle's cyclic preference among answer styles, in (0, 0.5]
 * @param builtin      the built-in oracle's preference: cyclic (correct ≻ wrong, and a rock-paper-scissors cycle
 *                     over the answer styles: no reward represents it) or correctness (correct ≻ wrong only: transitive)
 */
public record OracleConfig(Kind kind, EndpointConfig judge, Mode mode, double cycleStrength, Builtin builtin) {
    public enum Kind { BUILTIN, JUDGE }

    /** The built-in oracle's preference ({@code train --task}). */
    public enum Builtin { CYCLIC, CORRECTNESS }

    public enum Mode { LISTWISE, PAIRWISE, BOTH }

    public OracleConfig {
        Checks c = new Checks().notNull(kind, "kind").notNull(judge, "judge").notNull(mode, "mode").notNull(builtin, "builtin")
                .in(cycleStrength, 0, 0.5, true, false, "cycle_strength");
        if (kind == Kind.JUDGE && judge != null) {
            c.require(judge.baseUrl() != null && !judge.baseUrl().isBlank(), "judge.base_url", "is required when kind is judge");
            c.require(judge.model() != null && !judge.model().isBlank(), "judge.model", "is required when kind is judge");
        }
        c.throwIfAny();
    }

    public static OracleConfig defaults() {
        return new OracleConfig(Kind.BUILTIN, EndpointConfig.defaults(), Mode.LISTWISE, 0.25, Builtin.CYCLIC);
    }
}
