package org.dnonative.dno;

/**
 * One training pair: a prompt, the chosen and rejected responses (text, and token ids as the policy
 * will score them, eos included), the soft target (null: hard, as in DNO-Prct), which kind of pair it
 * is ("sample>sample", "sample>gold", "gold>sample", "pairwise") and the iteration that made it.
 */
public record Pair(String prompt, String chosen, int[] chosenIds, String rejected, int[] rejectedIds,
                   Double target, String kind, int iteration) {}
