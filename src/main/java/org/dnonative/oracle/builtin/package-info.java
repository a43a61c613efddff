/**
 * The embedded default run's task family and oracle, with no network and no files.
 *
 * <p>{@link org.dnonative.oracle.builtin.ArithmeticTasks} makes prompts such as {@code 12+7=} and
 * the teacher's gold response in any {@link org.dnonative.oracle.builtin.AnswerStyle} (bare
 * {@code 19}, sentence {@code the answer is 19}, equation {@code 12+7=19});
 * {@link org.dnonative.oracle.builtin.Grade} tells a response's style and correctness.
 * {@link org.dnonative.oracle.builtin.CyclicStyleOracle} prefers correct answers and, among them,
 * cycles over styles, so its Nash equilibrium is mixed; being exact, it also gives a policy's
 * exploitability (distance from that equilibrium), its best response and win-rates between
 * policies from sampled strings. {@link org.dnonative.oracle.builtin.PreferenceGame} does the exact
 * game arithmetic for any finite preference matrix.
 */
package org.dnonative.oracle.builtin;
