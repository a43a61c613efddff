package org.dnonative.dno.store;

/**
 * One training pair: a prompt, the chosen and rejected responses (text, and token ids as the policy
 * scores them, eos included), the soft target (null: hard, as in DNO-Prct), which kind of pair it is
 * ("sample>sample", "sample>gold", "gold>sample", "pairwise") and the iteration that made it. Its id
 * ({@code ITERATION:PROMPT_ID:WINNER>LOSER}) joins it to its reference log-probs.
 */
public record Pair(String id, String prompt, String chosen, int[] chosenIds, String rejected, int[] rejectedIds,
                   Double target, String kind, int iteration) {
    public static String id(int iteration, String promptId, String winnerId, String loserId) {
        return iteration + ":" + promptId + ":" + winnerId + ">" + loserId;
    }
}
