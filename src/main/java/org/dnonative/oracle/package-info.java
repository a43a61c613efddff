/**
 * Preference oracles: what DNO optimises against.
 *
 * <p>{@link org.dnonative.oracle.PreferenceOracle} is the plug-in point. An oracle answers list-wise
 * ({@code score(prompt, candidates)}: one score per candidate on 0..{@code maxScore()}), pairwise
 * ({@code compare(prompt, a, b)}: P(a ≻ b)), or both, as {@code kinds()} says. Candidates carry
 * their {@link org.dnonative.oracle.Candidate.Origin} (policy sample or teacher's gold) for the pair
 * rules; oracles do not look at it. Judgments that could not be had come back as
 * {@link org.dnonative.oracle.JudgmentStatus#UNUSABLE} (final, cached) or
 * {@link org.dnonative.oracle.JudgmentStatus#FAILED} (transport, asked again on resume), never as
 * exceptions; such a prompt yields no pair.
 *
 * <p>How the DNO loop uses it, per iteration:
 * <pre>{@code
 * OracleStats before = oracle.stats();
 * List<ListwiseJudgment> judged = oracle.scoreAll(requests);      // or compareAll(pairs)
 * metrics.putAll(oracle.stats().minus(before).asMetrics("oracle_"));
 * metrics.putAll(oracle.diagnostics(samplesByPrompt));           // exploitability, where the game is known
 * }</pre>
 *
 * <p>Implementations: {@link org.dnonative.oracle.judge.OpenAiJudge} (an LLM behind any
 * OpenAI-compatible endpoint, with a persistent judgment cache) and
 * {@link org.dnonative.oracle.builtin.CyclicStyleOracle} (the embedded default run's programmatic
 * general preference over {@link org.dnonative.oracle.builtin.ArithmeticTasks}).
 */
package org.dnonative.oracle;
